"""The small formatting rules of the pages (the language itself: :mod:`advisor.locale`).

Estimated times are always written as estimates ("≈ 4 год 50 хв (оцінка)", "≈ 01:20");
a clock time without "≈" is only ever shown for a timetabled leg.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask_babel import gettext, ngettext

from advisor.network.geo import KYIV_TZ

__all__ = [
    "clock_time",
    "format_age",
    "format_minutes",
    "local_time",
]

log = logging.getLogger(__name__)



def format_minutes(minutes: float, estimated: bool = True) -> str:
    """A duration as "≈ 4 год 50 хв (оцінка)" / "≈ 4 h 50 min (estimated)".

    Estimates are rounded to 5 minutes: the speed model is not precise to the minute and
    showing "4 h 53 min" would suggest a timetable.
    """
    step = 5 if estimated else 1
    total = max(step, round(minutes / step) * step)
    hours, mins = divmod(total, 60)
    if hours and mins:
        text = gettext("%(h)d h %(m)d min", h=hours, m=mins)
    elif hours:
        text = gettext("%(h)d h", h=hours)
    else:
        text = gettext("%(m)d min", m=mins)
    if estimated:
        return gettext("≈ %(duration)s (estimated)", duration=text)
    return text


def format_age(when: datetime | None, now: datetime | None = None) -> str:
    """How long ago *when* was: "5 min ago", "3 h ago", "2 days ago"."""
    if when is None:
        return gettext("never")
    now = now or datetime.now(UTC)
    minutes = max(0, int((now - when).total_seconds() // 60))
    if minutes < 60:
        return ngettext("%(num)d min ago", "%(num)d min ago", minutes)
    hours = minutes // 60
    if hours < 48:
        return ngettext("%(num)d hour ago", "%(num)d hours ago", hours)
    return ngettext("%(num)d day ago", "%(num)d days ago", hours // 24)


def local_time(when: datetime | None) -> str:
    """*when* in Kyiv time as ``2026-03-12 14:05`` (empty for None)."""
    if when is None:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(KYIV_TZ).strftime("%Y-%m-%d %H:%M")


def clock_time(when: datetime, since: datetime | None = None) -> str:
    """*when* as ``HH:MM`` in Kyiv time, with "(+1 day)" when it falls on a later day than
    *since*."""
    local = when.astimezone(KYIV_TZ)
    text = local.strftime("%H:%M")
    if since is not None:
        days = (local.date() - since.astimezone(KYIV_TZ).date()).days
        if days > 0:
            text += " " + ngettext("(+%(num)d day)", "(+%(num)d days)", days)
    return text
