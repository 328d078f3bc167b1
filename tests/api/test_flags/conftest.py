"""Fixtures of the flag API tests: an app over the tiny network with a fresh store, tokens."""

from tests.store.apptools import client, flag_app, tiny_dataset, tokens  # noqa: F401
from tests.store.databases import pg_url  # noqa: F401
