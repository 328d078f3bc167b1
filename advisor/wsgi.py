"""Production entry point: ``gunicorn 'advisor.wsgi:app'`` or ``advisor serve``.

Builds the app from the embedded defaults (SQLite in the instance folder, the shipped
network) and ``ADVISOR_*`` variables; nothing else needs setting up.
"""

from __future__ import annotations

import json
import logging

from gunicorn.app.base import BaseApplication

from advisor import create_app
from advisor.text import utf8_safe

__all__ = ["Server", "configure_logging"]  # and ``app``, built on first access


class JsonFormatter(logging.Formatter):
    """One JSON object per line: easy for log shippers, no stack trace lost."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
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


def _build():
    configure_logging()
    return create_app()


def __getattr__(name: str):
    # ``advisor.wsgi:app`` is built on first access, not at import: no configuration is
    # read when this module is merely imported (by tests or tools).
    if name == "app":
        application = _build()
        globals()["app"] = application
        return application
    raise AttributeError(name)
