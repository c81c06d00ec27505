"""Interventions: the evidence catalogue, what each measure reaches, costs per jurisdiction, rankings
per hotspot and the portfolio under a budget.
"""
