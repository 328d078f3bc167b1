"""The gunicorn entry point and its JSON log lines."""

from __future__ import annotations

import json
import logging
import sys

import advisor.wsgi as wsgi


def test_json_formatter_keeps_the_trace_in_one_line():
    formatter = wsgi.JsonFormatter()
    try:
        raise ValueError("bad")
    except ValueError:
        record = logging.LogRecord(
            "advisor.x", logging.ERROR, __file__, 1, "failed %s", ("x",), None
        )
        record.exc_info = sys.exc_info()
    line = formatter.format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "failed x" and entry["level"] == "ERROR"
    assert "ValueError: bad" in entry["exception"]


def test_importing_the_module_builds_no_app(monkeypatch):
    built = []
    monkeypatch.setattr(wsgi, "_build", lambda: built.append(1) or "app")
    monkeypatch.delitem(wsgi.__dict__, "app", raising=False)
    assert built == []
    assert wsgi.app == "app"  # built on first access (what gunicorn does)
    assert built == [1]
    del wsgi.__dict__["app"]  # leave the module as imported
