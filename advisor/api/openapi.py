"""``GET /api/v1/openapi.json``: the OpenAPI 3 document, kept in one file beside this module.

Other endpoint modules (flags …) describe themselves in the same file, so the document is
in one place; the schemathesis tests check it against the running implementation.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from flask import Response

from advisor.api import bp

__all__ = ["load_document", "openapi_document"]

DOCUMENT = Path(__file__).with_name("openapi.json")


@cache
def load_document() -> str:
    """The document's text (read once per process)."""
    text = DOCUMENT.read_text(encoding="utf-8")
    json.loads(text)  # refuse to serve a broken document
    return text


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3 document of this API."""
    response = Response(load_document(), mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
