"""Metrics: indicators, statistics, disclosure control, publication of the mart."""
