"""JSON shapes of flags for operators, audit entries and impact previews."""

from __future__ import annotations

from datetime import datetime

from advisor.risk.parse import flag_to_dict

__all__ = ["audit_json", "flag_json", "impact_json"]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def flag_json(flag) -> dict:
    """A flag as operators and viewers see it: every field, with status and version."""
    data = flag_to_dict(flag)
    for name in ("active_from", "active_until", "published_at", "updated_at"):
        data.setdefault(name, None)
    return data


def audit_json(entry) -> dict:
    """One audit entry."""
    return {
        "id": entry.id,
        "at": _iso(entry.at),
        "actor": entry.actor,
        "address": entry.address,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "before": entry.before,
        "after": entry.after,
        "note": entry.note,
    }


def impact_json(impact) -> dict:
    """An impact preview (see :class:`advisor.services.Impact`)."""
    return impact.to_dict()
