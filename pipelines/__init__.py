"""Pipelines: read municipal deliveries, check them against the contract, load the warehouse."""
