"""The ``advisor`` command: build the dataset, search, route, serve, manage accounts."""

from __future__ import annotations

import click

__all__ = ["main"]


@click.group()
def main():
    """Route-risk advisor for Ukraine's rail and intercity bus network."""


if __name__ == "__main__":  # pragma: no cover
    main()
