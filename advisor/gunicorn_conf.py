"""gunicorn settings of the production server, shared by ``advisor serve`` and
``gunicorn -c python:advisor.gunicorn_conf 'advisor.wsgi:app'``.

Threaded workers (``gthread``): with sync workers each worker serves one connection at a
time, so two clients dripping their request headers held both workers of an instance
(``/healthz`` waited 35.8 s, then the arbiter killed both). A ``gthread`` worker keeps idle
and not-yet-sending connections in its poller, and serves up to ``threads`` requests at
once, so a few slow clients hold a few threads, not the process. gunicorn has no deadline
for reading a request's headers, though: many slow clients can still fill every thread,
so a production deployment puts a buffering reverse proxy in front (README, "Serving").
"""

from __future__ import annotations

worker_class = "gthread"
workers = 2
threads = 8
# A request (routing on the national network) takes well under a second; a worker whose
# main loop is stuck this long is restarted.
timeout = 30
graceful_timeout = 10
# Kept-alive connections wait in the poller, not in a thread; close them soon anyway.
keepalive = 5
# Bounded request heads: no flag or query needs more.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = None  # the app writes one structured line per request itself

SETTINGS = {
    name: value
    for name, value in dict(globals()).items()
    if not name.startswith("_") and name not in {"annotations", "SETTINGS"}
}
"""The settings above as a dict (``advisor serve`` passes them to gunicorn)."""
