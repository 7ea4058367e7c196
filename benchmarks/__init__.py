"""National-scale benchmarks: `python -m benchmarks.run` (make bench), not part of the tests."""
