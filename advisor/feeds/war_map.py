"""Fetching a war map (GeoJSON) over HTTP, the requests way, with a conditional GET.

One :class:`requests.Session`, an explicit timeout, a retry adapter for the idempotent GET,
``raise_for_status()``, a size cap enforced while streaming, and the ``ETag`` /
``Last-Modified`` of the last good download remembered in a small JSON file so the next
fetch of the same URL can answer "not modified" without a body. Parsing and validation
are :func:`advisor.war_maps.parse_war_map`'s job.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError

from advisor.errors import FeedUnavailable
from advisor.feeds.fetch import read_capped, retrying_session

__all__ = ["MapNotModified", "WarMapFetcher"]

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024  # today's map is 80 KB; a daily series file stays < 5 MB


class MapNotModified(FeedUnavailable):
    """The server says the map has not changed since the last download."""


class WarMapFetcher:
    """Downloads a map into memory.

    Parameters
    ----------
    validators_path : Path, optional
        JSON file remembering ``ETag`` / ``Last-Modified`` per URL (no conditional GET
        without it).
    timeout_seconds, retries, backoff_seconds, max_bytes
        Connect/read timeout, GET retries (connection errors, 429, 5xx), backoff factor,
        and the largest body accepted.
    """

    def __init__(
        self,
        validators_path: Path | None = None,
        *,
        timeout_seconds: float = 20.0,
        retries: int = 3,
        backoff_seconds: float = 0.5,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ):
        self.validators_path = Path(validators_path) if validators_path else None
        self.timeout_seconds = timeout_seconds
        self.max_bytes = max_bytes
        self.session = retrying_session("war map import", retries, backoff_seconds)

    def fetch(self, url: str, *, conditional: bool = True) -> bytes:
        """The body at *url*; raises :class:`MapNotModified` (304) or :class:`FeedUnavailable`
        naming the URL and the problem (unreachable, timeout, HTTP error, too large)."""
        headers = self._conditional_headers(url) if conditional else {}
        try:
            with self.session.get(
                url, headers=headers, timeout=self.timeout_seconds, stream=True
            ) as response:
                if response.status_code == 304:
                    raise MapNotModified(
                        f"map {url} has not changed since the last import (HTTP 304)", value=url
                    )
                response.raise_for_status()
                body = read_capped(response, self.max_bytes,
                                   lambda: FeedUnavailable(self._too_large(url), value=url))
                self._remember(url, response.headers)
        except requests.HTTPError as err:
            status = err.response.status_code if err.response is not None else "?"
            raise FeedUnavailable(f"map {url} answered HTTP {status}", value=url) from err
        except requests.RequestException as err:
            if _timed_out(err):
                raise FeedUnavailable(
                    f"map {url} timed out after {self.timeout_seconds:g} s", value=url
                ) from err
            raise FeedUnavailable(f"map {url} could not be fetched: {err}", value=url) from err
        log.info("fetched war map %s (%d bytes)", url, len(body))
        return body

    def _too_large(self, url: str) -> str:
        return f"map {url} is larger than the {self.max_bytes:,} byte limit"

    def _conditional_headers(self, url: str) -> dict:
        known = self._validators().get(url, {})
        headers = {}
        if known.get("etag"):
            headers["If-None-Match"] = known["etag"]
        if known.get("last_modified"):
            headers["If-Modified-Since"] = known["last_modified"]
        return headers

    def _validators(self) -> dict:
        if self.validators_path is None:
            return {}
        try:
            return json.loads(self.validators_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def _remember(self, url: str, headers) -> None:
        if self.validators_path is None:
            return
        known = self._validators()
        known[url] = {"etag": headers.get("ETag", ""),
                      "last_modified": headers.get("Last-Modified", "")}
        self.validators_path.parent.mkdir(parents=True, exist_ok=True)
        self.validators_path.write_text(json.dumps(known, indent=1), encoding="utf-8")

    def close(self) -> None:
        """Close the session's connections."""
        self.session.close()


def _timed_out(err: requests.RequestException) -> bool:
    """True for a timeout, also when the retry adapter wrapped it in a ConnectionError."""
    if isinstance(err, requests.Timeout):
        return True
    reason = getattr(err.args[0], "reason", None) if err.args else None
    # urllib3 derives NewConnectionError (refused, unreachable) from ConnectTimeoutError.
    if isinstance(reason, NewConnectionError):
        return False
    return isinstance(reason, (ReadTimeoutError, ConnectTimeoutError))
