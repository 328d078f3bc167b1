"""Compressed responses (brotli where the client accepts it, else gzip) for pages, JSON and
problem details, through Flask-Compress.

A results page is mostly repeated markup and SVG coordinates: it shrinks to about a fifth.
Small responses (under 500 bytes) are sent as they are.
"""

from __future__ import annotations

from flask import Flask
from flask_compress import Compress

__all__ = ["init_compression"]

MIMETYPES = [
    "text/html",
    "text/css",
    "text/plain",
    "application/javascript",
    "text/javascript",
    "application/json",
    "application/problem+json",
    "image/svg+xml",
]


def init_compression(app: Flask) -> None:
    """Compress every response of *app* whose type is in :data:`MIMETYPES`."""
    app.config.setdefault("COMPRESS_MIMETYPES", MIMETYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)
    # Streamed responses (static files sent from disk) stay as they are: Flask-Compress 1.25
    # does not close the file it streams from, and the CSS and script are small.
    app.config.setdefault("COMPRESS_STREAMS", False)
    Compress(app)
