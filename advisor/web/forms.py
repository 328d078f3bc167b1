"""The journey form: read the GET parameters, keep what the user typed, name every problem.

The form is plain GET so a result can be shared as a link and works without JavaScript.
Problems are collected per field (all at once, not one per round trip) and shown next to
the field with the user's text kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from advisor.network.geo import KYIV_TZ as KYIV
from advisor.network.model import Mode
from advisor.risk.model import Tolerance
from advisor.services import MAX_TEXT

__all__ = ["MODES", "TOLERANCES", "JourneyForm"]

TOLERANCES = tuple(t.value for t in Tolerance)
MODES = (Mode.RAIL.value, Mode.BUS.value)


@dataclass
class JourneyForm:
    """What the user typed, and what is wrong with it."""

    origin: str = ""
    destination: str = ""
    origin_id: str = ""
    destination_id: str = ""
    date: str = ""
    time: str = ""
    tolerance: str = "balanced"
    modes: tuple[str, ...] = MODES
    submitted: bool = False
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args, default_tolerance: str = "balanced") -> JourneyForm:
        """Read the query string (unknown parameters are ignored)."""
        submitted = any(name in args for name in ("from", "to"))
        # The form sends "modes_given" with its checkboxes: both unchecked means no mode,
        # which is an error, not "both"; a hand-written link without modes means both.
        given = "modes" in args or "modes_given" in args
        modes = tuple(m for m in args.getlist("modes") if m) if given else MODES
        return cls(
            origin=args.get("from", "")[:MAX_TEXT].strip(),
            destination=args.get("to", "")[:MAX_TEXT].strip(),
            origin_id=args.get("from_id", "")[:MAX_TEXT],
            destination_id=args.get("to_id", "")[:MAX_TEXT],
            date=args.get("date", "").strip(),
            time=args.get("time", "").strip(),
            tolerance=args.get("tolerance", default_tolerance).strip(),
            modes=modes,
            submitted=submitted,
        )

    def validate(self) -> None:
        """Collect the problems of this form's own fields (empty, date, time) at once; the
        shared query parser judges tolerance, modes and the stations."""
        if not self.origin:
            self.errors["from"] = gettext("Enter where you travel from.")
        if not self.destination:
            self.errors["to"] = gettext("Enter where you travel to.")
        if not self.modes:
            self.errors["modes"] = gettext("Choose at least one way to travel.")
        self._check_when()

    def _check_when(self) -> None:
        not_a_date = _l("“%(value)s” is not a date; use the form 2026-03-12.")
        not_a_time = _l("“%(value)s” is not a time of day; use the form 14:30.")
        checks = (
            ("date", self.date, date.fromisoformat, not_a_date),
            ("time", self.time, time.fromisoformat, not_a_time),
        )
        for name, value, parse, message in checks:
            try:
                if value:
                    parse(value)
            except ValueError:
                self.errors[name] = message % {"value": value}

    def depart_at(self, now: datetime) -> datetime:
        """The departure as an aware datetime in Kyiv time (defaults: today, now)."""
        local_now = now.astimezone(KYIV)
        day = date.fromisoformat(self.date) if self.date else local_now.date()
        clock = time.fromisoformat(self.time) if self.time else local_now.time()
        return datetime.combine(day, clock.replace(tzinfo=None), tzinfo=KYIV)

    def params(self, **changes) -> dict:
        """The query parameters of this form, with *changes* applied (for links)."""
        values = {
            "from": self.origin,
            "to": self.destination,
            "from_id": self.origin_id,
            "to_id": self.destination_id,
            "date": self.date,
            "time": self.time,
            "tolerance": self.tolerance,
            "modes": list(self.modes),
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v not in ("", None, [])}
