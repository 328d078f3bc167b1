"""Where routing reads flags from, and the immutable risk snapshot it routes with."""

from __future__ import annotations

import json
import logging
import tomllib
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from advisor.errors import InvalidFlag, StoreUnavailable
from advisor.risk.coverage import RiskIndex
from advisor.risk.model import Flag
from advisor.risk.parse import flag_from_dict

__all__ = ["SNAPSHOT_FILE", "FileFlagSource", "FlagSource", "RiskState"]

log = logging.getLogger(__name__)

SNAPSHOT_FILE = "flags-snapshot.json"  # in the instance folder: the last good flag set


class FlagSource(Protocol):
    """Where routing reads flags from (a flag file, the flag store …)."""

    def load_flags(self) -> list[Flag]:
        """Every flag that may apply (the index filters by status and window).

        Raises :class:`StoreUnavailable` when the source cannot be read.
        """
        ...


@dataclass(frozen=True)
class RiskState:
    """One immutable snapshot of the flag set, swapped whole by :class:`Services`.

    ``updated_at`` is the last successful read; ``available`` is False while the source
    fails (the last good flags stay in force); ``stale`` is True when the last good read is
    older than the configured limit or the source is failing.

    ``stamps`` name what routing reads from this state, one ``(part, stamp)`` pair per part:
    ``("flags", n)`` changes whenever the flag set (and so ``index``) changes. A part added
    later (the war map, live air-raid alerts …) adds its own pair, with a stamp that changes
    whenever it does. :attr:`version` composes them; the answer cache
    (:mod:`advisor.services.answer_cache`) keeps answers per version, so anything that can
    change an answer must change a stamp.
    """

    flags: tuple[Flag, ...]
    index: RiskIndex
    updated_at: datetime | None
    available: bool = True
    stale: bool = False
    problems: tuple[str, ...] = ()
    origin: str = "source"  # or "snapshot" / "baseline": see DataFreshness.flags_origin
    # Temporary flags made from the air-raid alerts (in ``index``, not in ``flags``: the flag
    # list, the API's /flags and the published GTFS-rt feed are the operators' flags), and
    # the alert feed's state, None when no alert feed is configured.
    alert_flags: tuple[Flag, ...] = ()
    alerts: object | None = None
    war_layer: object = None  # the WarLayer in force (issue 11); its flags are in the index
    stamps: tuple[tuple[str, Hashable], ...] = ()

    @property
    def version(self) -> Hashable:
        """Changes whenever anything answers depend on changes (see ``stamps``); freshness
        (``stale``/``available``) is not part of it: the answer cache keys on that itself."""
        return self.stamps

    def freshness_at(self, now: datetime, stale_after: timedelta) -> RiskState:
        """This state with ``stale`` recomputed for *now*."""
        old = self.updated_at is None or now - self.updated_at > stale_after
        stale = not self.available or old
        return self if stale == self.stale else replace(self, stale=stale)


@dataclass
class FileFlagSource:
    """Flags from JSON or TOML files (a list, ``{"flags": [...]}`` or TOML ``[[flag]]``).

    With ``strict`` a bad flag refuses the whole file (for the CLI, where the person who
    wrote the file is watching); otherwise each bad flag is logged, listed in ``problems``
    and the rest are kept.
    """

    paths: Sequence[Path]
    strict: bool = False
    problems: list[str] = field(default_factory=list)

    def load_flags(self) -> list[Flag]:
        """Read every file; raises :class:`StoreUnavailable` naming a missing/unreadable one."""
        flags: list[Flag] = []
        problems: list[str] = []
        for path in self.paths:
            flags.extend(self._read(Path(path), problems))
        self.problems = problems
        return flags

    def _read(self, path: Path, problems: list[str]) -> list[Flag]:
        entries = _flag_entries(path)
        flags = []
        for number, entry in enumerate(entries, start=1):
            try:
                flags.append(flag_from_dict(entry))
            except InvalidFlag as err:
                message = f"{path} flag {number}: {err.message}"
                if self.strict:
                    raise InvalidFlag(message, field=err.field, value=err.value) from err
                log.warning("skipping %s", message)
                problems.append(message)
        return flags


def _flag_entries(path: Path) -> list:
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise StoreUnavailable(
            f"cannot read flag file {path}: {err.strerror}", value=str(path)
        ) from err
    try:
        if path.suffix.lower() == ".toml":
            data = tomllib.loads(raw.decode("utf-8"))
        else:
            data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise InvalidFlag(
            f"flag file {path} is not valid {path.suffix[1:] or 'JSON'}: {err}",
            field="file",
            value=str(path),
        ) from err
    if isinstance(data, dict):
        data = data.get("flags", data.get("flag", []))
    if not isinstance(data, list):
        raise InvalidFlag(f"flag file {path} holds no list of flags", field="file", value=str(path))
    return data

