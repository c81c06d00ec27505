"""Benchmarks against peer tools; run as ``python -m bench.bench_<topic>`` (never part of the tests)."""
