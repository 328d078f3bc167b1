"""Imports every endpoint module so that it attaches its views to the API blueprint."""
