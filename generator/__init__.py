"""Synthetic deliveries for demos, tests and benchmarks, with the rates they plant."""
