"""Run the real app under gunicorn for the browser tests.

``python -m tests.operator.live_server --port N --instance DIR [--workers 2]`` serves the
shipped network with a store in DIR. ``testing`` is on only so the session cookie may go
over plain HTTP on loopback; everything else is the production set-up.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from advisor import create_app
from advisor.wsgi import Server, configure_logging


class LiveServer(Server):
    """gunicorn with the app built from explicit setting overrides."""

    def __init__(self, options: dict, overrides: dict):
        self.overrides = overrides
        super().__init__(options)

    def load(self):
        configure_logging()
        return create_app(self.overrides)


def overrides_for(instance: Path) -> dict:
    """The settings of the served app (shared with the test that prepares accounts)."""
    return {
        "testing": True,
        "instance_path": instance,
        "rate_limit_per_minute": 0,
        "signin_attempts_per_15_minutes": 5,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--instance", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    options = {
        "bind": f"127.0.0.1:{args.port}",
        "workers": args.workers,
        "timeout": 120,
        "accesslog": None,
        "loglevel": "warning",
    }
    LiveServer(options, overrides_for(args.instance)).run()


if __name__ == "__main__":
    main()
