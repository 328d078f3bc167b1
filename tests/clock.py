"""A clock for tests: called like ``utcnow``, it answers ``now``, which a test moves."""

from __future__ import annotations

from datetime import datetime


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now
