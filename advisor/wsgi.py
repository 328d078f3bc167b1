"""Production entry point: ``advisor serve`` or
``gunicorn -c python:advisor.gunicorn_conf 'advisor.wsgi:app'``.

Builds the app from the embedded defaults (SQLite in the instance folder, the shipped
network) and ``ADVISOR_*`` variables; nothing else needs setting up.

Memory and the first request: the gunicorn master loads the network, its routing graph and
station index once (:func:`on_starting`, the server hook ``advisor.gunicorn_conf`` sets) and
freezes them out of the garbage collector's sight, so forked workers share those pages
copy-on-write. Each worker then builds the app itself after the
fork (no ``preload_app``: database connections must not cross a fork) and reads the flags
before it takes its first request (:func:`_build`).
"""

from __future__ import annotations

import gc
import json
import logging

from gunicorn.app.base import BaseApplication

from advisor import create_app
from advisor.errors import AdvisorError
from advisor.text import utf8_safe

__all__ = ["Server", "configure_logging", "on_starting"]  # and ``app``, built on first access

log = logging.getLogger(__name__)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: easy for log shippers, no stack trace lost."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,  # which worker: several write to one stream
            "ts": round(record.created, 6),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # A logged value may hold a lone surrogate; the line must still be writable.
        return utf8_safe(json.dumps(entry, ensure_ascii=False)).decode("utf-8")


def configure_logging(level: int = logging.INFO) -> None:
    """Send every log record to stderr as JSON lines (the app decides; modules only log)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


class Server(BaseApplication):
    """gunicorn run in-process with options from ``advisor serve``."""

    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return _build()


def on_starting(_server=None) -> None:
    """gunicorn hook (master, before the workers fork): load the shared network once."""
    import advisor.feeds.timetables
    import advisor.routing.timetable  # noqa: F401
    from advisor.services.planning import shared_network
    from advisor.settings import load_settings

    configure_logging()
    shared_network(load_settings().network_dataset)
    gc.freeze()  # keep the collector from touching (and so copying) the shared pages
    log.info("network loaded in the master; workers share it")


def _build():
    configure_logging()
    application = create_app()
    services = application.extensions["advisor.services"]
    try:
        services.network  # noqa: B018 - shared from the master when it preloaded, else built now
        services.risk_state  # noqa: B018 - the flags, read before the first request
        services.timetable  # noqa: B018 - imports the timetable modules (~0.3 s) and loads one
    except AdvisorError as err:  # /readyz says why; the worker still answers /healthz
        log.error("worker started without its network: %s", err.message)
    return application


def __getattr__(name: str):
    # ``advisor.wsgi:app`` is built on first access, not at import: no configuration is
    # read when this module is merely imported (by tests or tools).
    if name == "app":
        application = _build()
        globals()["app"] = application
        return application
    raise AttributeError(name)
