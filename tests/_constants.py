"""Shared tolerances for numeric comparisons."""

RTOL = 1e-7
ATOL = 1e-9
