"""HGKM monitor: the command line, settings and reference data shared by every layer."""
