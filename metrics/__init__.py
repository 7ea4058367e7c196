"""Metrics: indicators from the catalogue, statistics, disclosure control, publication of the mart."""
