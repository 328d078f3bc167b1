"""Compressed responses (brotli where the client accepts it, else gzip) for pages, JSON and
problem details, through Flask-Compress.

A results page is mostly repeated markup and SVG coordinates: it shrinks to about a fifth.
Small responses (under 500 bytes) are sent as they are.
"""

from __future__ import annotations

import struct
import zlib

from flask import Flask
from flask_compress import Compress

__all__ = ["SplicedBody", "init_compression", "spliced_response"]

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


class SplicedBody:
    """A response body made of fixed parts with short variable slots between them, ready to
    send as it is or gzipped, built once and filled per response.

    A cached answer differs from one request to the next only in a few time stamps (the
    caller's departure time, when the data was last read): the fixed parts are kept and
    only the slots are filled per response. The gzip form is one gzip member whose deflate
    stream is the body up to its last slot, compressed once per set of values of the
    earlier slots (they change when the data is re-read, not per request), then the last
    slot as a stored block and the rest as its own stream: standard deflate (RFC 1951), each
    piece ending on a byte boundary (zlib's ``Z_SYNC_FLUSH``), so any gzip reader decodes
    it. Brotli streams cannot be spliced like this (their meta-blocks share state), hence
    :func:`spliced_response` prefers gzip when the client takes it as gladly as brotli.

    >>> import gzip
    >>> body = SplicedBody([b'{"at":', b',"n":1}'], [0])
    >>> body.identity([b'"12:00"'])
    b'{"at":"12:00","n":1}'
    >>> gzip.decompress(body.gzipped([b'"13:00"']))
    b'{"at":"13:00","n":1}'
    """

    _HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # no mtime: same bytes each time
    _LAST = b"\x01\x00\x00\xff\xff"  # an empty stored block marked final

    def __init__(self, parts, slots, level: int = 6):
        self.parts = tuple(bytes(p) for p in parts)
        self.slots = tuple(slots)  # the value that follows part i is values[slots[i]]
        if len(self.parts) != len(self.slots) + 1:
            raise ValueError("a spliced body has one more part than slots")
        self.level = level
        self._tail = _raw_deflate(self.parts[-1], level) if self.slots else b""
        self._head: tuple | None = None  # (earlier values, deflated, crc, length)

    def identity(self, values) -> bytes:
        """The body with *values* (bytes, indexed by slot) in its slots."""
        out = [self.parts[0]]
        for slot, part in zip(self.slots, self.parts[1:], strict=True):
            out += (values[slot], part)
        return b"".join(out)

    def gzipped(self, values) -> bytes:
        """The gzip member of :meth:`identity` (*values*)."""
        head = self._head_for(values)
        _, deflated, crc, size = head
        out = [self._HEADER, deflated]
        if self.slots:
            value, tail = values[self.slots[-1]], self.parts[-1]
            crc, size = zlib.crc32(tail, zlib.crc32(value, crc)), size + len(value) + len(tail)
            out += (_stored(value), self._tail)
        out += (self._LAST, struct.pack("<II", crc, size & 0xFFFFFFFF))
        return b"".join(out)

    def _head_for(self, values) -> tuple:
        """The body up to its last slot, deflated, for these values of the earlier slots."""
        earlier = tuple(values[slot] for slot in self.slots[:-1])
        head = self._head  # one reference, swapped whole: threads may share the body
        if head is None or head[0] != earlier:
            text = self.parts[0]
            if self.slots:
                whole = self.identity(values)
                text = whole[: len(whole) - len(values[self.slots[-1]]) - len(self.parts[-1])]
            head = (earlier, _raw_deflate(text, self.level), zlib.crc32(text), len(text))
            self._head = head
        return head


def _raw_deflate(data: bytes, level: int) -> bytes:
    if not data:
        return b""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


def _stored(data: bytes) -> bytes:
    """*data* as non-final stored deflate blocks (at most 65,535 bytes each)."""
    out = []
    for start in range(0, len(data), 0xFFFF):
        chunk = data[start : start + 0xFFFF]
        out += (struct.pack("<BHH", 0, len(chunk), len(chunk) ^ 0xFFFF), chunk)
    return b"".join(out)


def spliced_response(body: SplicedBody, values, mimetype: str):
    """A response of *body* filled with *values*: gzipped here when the client takes gzip at
    least as gladly as brotli, else as it is (Flask-Compress then encodes it as usual)."""
    from flask import current_app, request

    accepted = request.accept_encodings
    config = current_app.config
    data = body.identity(values)
    response = current_app.response_class(data, mimetype=mimetype)
    gzip_q = accepted.quality("gzip")
    if (
        gzip_q > 0
        and gzip_q >= accepted.quality("br")
        and "gzip" in config["COMPRESS_ALGORITHM"]
        and len(data) >= config["COMPRESS_MIN_SIZE"]
    ):
        response.set_data(body.gzipped(values))
        response.headers["Content-Encoding"] = "gzip"
    return response
