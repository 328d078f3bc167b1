"""Imports every endpoint module so that it attaches its views to the API blueprint."""

from advisor.api import alerts, flags, openapi, routes, stations  # noqa: F401
