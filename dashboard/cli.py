"""Placeholder until this layer's commands land (see hgkm/cli.py)."""


def register(subparsers) -> None:
    return None
