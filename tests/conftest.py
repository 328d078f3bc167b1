"""Shared fixtures. Keep this file small: each part adds only what several test folders reuse."""

from __future__ import annotations

import pytest

from tests.tiny_network import build_tiny_network


@pytest.fixture(scope="session")
def tiny_network():
    """The 19-stop network drawn in :mod:`tests.tiny_network` (rail, buses, transfers, lines)."""
    return build_tiny_network()


@pytest.fixture(scope="session")
def shipped_network():
    """The national network shipped in the package (loaded once per test session)."""
    from advisor.network.dataset import load_network

    return load_network()
