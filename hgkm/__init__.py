"""The floor every layer stands on: settings, config, reference data, errors, limits, logs."""
