"""Fetching a remote GTFS zip over HTTP, the requests way.

One :class:`requests.Session` per fetcher, an explicit timeout on every call, a retry adapter
for the idempotent GET (connection errors and 429/5xx, with backoff), ``raise_for_status()``,
and no parsing here: the file is handed to :func:`advisor.network.gtfs.read_feed`.
"""

from __future__ import annotations

import logging
import tempfile
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlparse

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from advisor.errors import FeedUnavailable

__all__ = ["FeedFetcher", "is_url", "read_capped", "retry_after_seconds", "retrying_session"]

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 16


def is_url(text: str) -> bool:
    """True for an ``http://`` or ``https://`` address."""
    return urlparse(str(text)).scheme in ("http", "https")


def read_capped(response, max_bytes: int, refuse: Callable[[], Exception]) -> bytes:
    """A streamed *response*'s body, raising ``refuse()`` as soon as it is (or says it will
    be) larger than *max_bytes*."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise refuse()
    body = bytearray()
    for chunk in response.iter_content(CHUNK_BYTES):
        body += chunk
        if len(body) > max_bytes:
            raise refuse()
    return bytes(body)


def retrying_session(purpose: str, retries: int, backoff_seconds: float) -> requests.Session:
    """One ``requests`` Session for a component: retries idempotent GETs on connection errors,
    429 and 5xx with urllib3's exponential backoff; callers set a timeout on every call.

    With ``retries=0`` a read timeout is raised as :class:`requests.ReadTimeout` (not
    wrapped in a ConnectionError), so a poller can say the feed did not answer in time."""
    session = requests.Session()
    session.headers["User-Agent"] = f"route-risk-advisor ({purpose})"
    retry = Retry(
        total=retries,
        read=False if retries == 0 else None,
        backoff_factor=backoff_seconds,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET"}),
        raise_on_status=False,
    )
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def retry_after_seconds(response) -> float | None:
    """The server's ``Retry-After`` (seconds or an HTTP date) in seconds, or None."""
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return float(value)
    if value:
        try:
            return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            return None
    return None


class FeedFetcher:
    """Downloads GTFS zips into a folder (a temporary one unless given).

    Parameters
    ----------
    timeout_seconds : float
        Connect and read timeout of each request.
    retries : int
        Retries of a failed GET (connection errors, 429, 500, 502, 503, 504).
    backoff_seconds : float
        Backoff factor between retries (urllib3's exponential backoff).
    """

    def __init__(
        self, *, timeout_seconds: float = 30.0, retries: int = 3, backoff_seconds: float = 0.5
    ):
        self.timeout_seconds = timeout_seconds
        self.session = retrying_session("GTFS import", retries, backoff_seconds)

    def fetch(self, url: str, folder: Path | None = None) -> Path:
        """Download *url* to a ``.zip`` file in *folder* and return its path.

        Raises :class:`FeedUnavailable` naming the URL when the server cannot be reached,
        answers with an error status, or sends something that is not a zip.
        """
        folder = Path(folder or tempfile.mkdtemp(prefix="advisor-feed-"))
        name = Path(urlparse(url).path).name or "feed"
        target = folder / (name if name.endswith(".zip") else f"{name}.zip")
        try:
            with self.session.get(url, timeout=self.timeout_seconds, stream=True) as response:
                response.raise_for_status()
                with target.open("wb") as fh:
                    for chunk in response.iter_content(CHUNK_BYTES):
                        fh.write(chunk)
        except requests.HTTPError as err:
            status = err.response.status_code if err.response is not None else "?"
            raise FeedUnavailable(f"feed {url} answered HTTP {status}", value=url) from err
        except requests.RequestException as err:
            raise FeedUnavailable(f"feed {url} could not be fetched: {err}", value=url) from err
        if not zipfile.is_zipfile(target):
            raise FeedUnavailable(f"feed {url} did not send a zip file", value=url)
        log.info("fetched %s (%d bytes)", url, target.stat().st_size)
        return target

    def close(self) -> None:
        """Close the session's connections."""
        self.session.close()
