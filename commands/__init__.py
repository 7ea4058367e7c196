"""The `hgkm` program: its command router, the scheduled run, status; nothing imports it."""
