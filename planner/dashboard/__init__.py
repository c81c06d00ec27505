"""The Streamlit dashboard's building blocks; ``app.py`` is the thin page that wires them.

Modules: ``tables`` (tables and plain-language summaries, no Streamlit), ``charts`` (Altair
charts), ``state`` (cached plans, uploads, what-if edits in the session), ``map_component`` (the
mounted folium map and its clicks; the only user of streamlit-folium internals), ``widgets``
(column formats and small rendering helpers), ``access`` (who the visitor is, their role, the audit
log) and ``hosting`` (how ``planner dashboard`` starts the server, failing closed; no Streamlit).
``tables``, ``charts`` and ``hosting`` do not import Streamlit.
"""
