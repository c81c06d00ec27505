"""Hotspot statistics over incidents and cells (projected CRS, metres).

Submodules (import them directly; this package imports none of them so each can be used alone):

- :mod:`planner.hotspots.kde` — kernel density surfaces (quartic, Gaussian, Epanechnikov) by
  binning + FFT, bandwidth rules (ArcGIS, Silverman, Scott).
- :mod:`planner.hotspots.gistar` — Getis-Ord Gi* (convolution fast path, sparse weights), global
  FDR (BH/BY/Bonferroni), Esri-style ``gi_bin``, optional conditional permutations.
- :mod:`planner.hotspots.polygons` — significant hot cells dissolved into hotspot polygons with
  their statistics and time profiles.
- :mod:`planner.hotspots.clusters` — DBSCAN / HDBSCAN density clusters as alternative hotspots.
- :mod:`planner.hotspots.concentration` — Lorenz curve, Gini, share in the top cells.
- :mod:`planner.hotspots.emerging`, :mod:`planner.hotspots.nearrepeat`,
  :mod:`planner.hotspots.repeats` — space-time classes, near-repeat (Knox), repeat victimisation.
"""
