"""Flag pages of the console: the list, the create/edit form with its impact preview,
publish and withdraw, each flag's history, and the audit log."""

from __future__ import annotations

import hashlib
import json
import logging

from flask import abort, flash, g, redirect, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from advisor.errors import AdvisorError, Conflict, InvalidFlag, InvalidQuery, UnknownStation
from advisor.locale import current_locale
from advisor.network.search import matching_key
from advisor.risk.model import Flag, FlagStatus, utcnow
from advisor.risk.parse import UKRAINE_OBLAST_CODES, flag_from_dict, flag_to_dict
from advisor.services import Role, require_role
from advisor.text import check_text
from advisor.web.operator import bp
from advisor.web.operator.auth import console_url, operations, requires, services
from advisor.web.operator.forms import (
    KINDS,
    LEVELS,
    STATUSES,
    FlagFilters,
    FlagForm,
    field_of_error,
    flag_changes,
    posted_version,
)
from advisor.web.operator.preview import ImpactView
from advisor.web.operator.words import LABELS, oblast_name, page_words, sort_key

__all__ = ["audit", "flag_history", "flag_page", "flags", "new_flag", "withdraw"]

log = logging.getLogger(__name__)

SEARCH_LIMIT = 8
AUDIT_PAGE = 50


@bp.get("/")
def home():
    """The console starts at the flag list."""
    return redirect(console_url("operator.flags"))


@bp.get("/flags")
@requires(Role.VIEWER)
def flags(principal):
    """Every flag, filtered by status, level, line, oblast and "active now"."""
    filters = FlagFilters.from_args(request.args)
    network, now = services().network, utcnow()
    found = operations().list_flags(principal, filters.status or None)
    shown = [f for f in found if filters.keep(f, network, now)]
    shown.sort(key=lambda f: f.updated_at or now, reverse=True)
    return render_template(
        "operator/flags.html", flags=shown, filters=filters, now=now, **_choices()
    )


@bp.route("/flags/new", methods=["GET", "POST"])
@requires(Role.VIEWER)
def new_flag(principal):
    """Create a flag: target search, preview, save as draft or publish."""
    return _flag_form(None, principal)


@bp.route("/flags/<flag_id>", methods=["GET", "POST"])
@requires(Role.VIEWER)
def flag_page(flag_id, principal):
    """One flag: edit it, preview the edit, publish, withdraw."""
    return _flag_form(operations().get_flag(flag_id, principal), principal)


MAX_WITHDRAW_REASON = 500


@bp.route("/flags/<flag_id>/withdraw", methods=["GET", "POST"])
@requires(Role.VIEWER)
def withdraw(flag_id, principal):
    """Confirm, with a reason, then withdraw a draft or published flag (the version must be
    the one shown); one click never withdraws."""
    flag = operations().get_flag(flag_id, principal)
    # A GET may suggest a reason (the partner-feed review does); the operator edits it.
    sent = request.form if request.method == "POST" else request.args
    reason, error = sent.get("reason", "").strip(), ""
    if request.method == "POST":
        require_role(principal, Role.OPERATOR)
        try:
            withdrawn = operations().withdraw_flag(
                flag_id, posted_version(request.form), principal, reason=_withdraw_reason(reason)
            )
        except Conflict as err:
            error = gettext("Not withdrawn: %(why)s", why=err.message)
        except InvalidQuery as err:
            error = err.message
        else:
            flash(gettext("Flag %(title)s withdrawn (version %(v)d).",
                          title=page_words().title(withdrawn), v=withdrawn.version))  # fmt: skip
            return redirect(console_url("operator.flag_page", flag_id=flag_id))
    page = render_template("operator/withdraw.html", flag=flag, reason=reason, error=error)
    return page, 400 if error else 200


def _withdraw_reason(reason: str) -> str:
    if not reason:
        raise InvalidQuery(gettext("Say why the flag is withdrawn."), field="reason")
    if len(reason) > MAX_WITHDRAW_REASON:
        raise InvalidQuery(
            gettext("The reason is longer than %(n)d characters.", n=MAX_WITHDRAW_REASON),
            field="reason",
        )
    return check_text(reason, gettext("reason"), multiline=True)


@bp.get("/flags/<flag_id>/history")
@requires(Role.VIEWER)
def flag_history(flag_id, principal):
    """Every version of a flag, with what changed from the one before."""
    versions = operations().flag_history(flag_id, principal)
    if not versions:
        abort(404)
    rows, previous = [], {}
    for flag in versions:
        current = flag_to_dict(flag)
        rows.append((flag, flag_changes(previous, current)))
        previous = current
    return render_template("operator/history.html", flag=versions[-1], rows=list(reversed(rows)))


@bp.get("/audit")
@requires(Role.OPERATOR)
def audit(principal):
    """The audit log, newest first, a page at a time (``?before=<id>``, ``?object=<id>``)."""
    before = request.args.get("before", "")
    object_id = request.args.get("object", "").strip()[:64] or None
    entries = operations().list_audit(
        principal,
        object_id=object_id,
        limit=AUDIT_PAGE,
        # At most 18 digits: a larger number overflows the database's integer (a 500).
        before_id=int(before) if before.isdigit() and len(before) <= 18 else None,
    )
    older = entries[-1].id if len(entries) == AUDIT_PAGE else None
    return render_template(
        "operator/audit.html",
        entries=entries,
        older=older,
        object_id=object_id or "",
        changed=_changed_keys,
    )


# --- the flag form -----------------------------------------------------------------------


def _flag_form(flag: Flag | None, principal):
    if request.method == "GET":
        form = FlagForm.from_flag(flag, _station_name) if flag else FlagForm()
        return _render_form(form, flag)
    form = FlagForm.from_form(request.form)
    context: dict = {}
    action = request.form.get("action", "preview")
    if request.form.get("pick"):
        _apply_pick(form, request.form["pick"])
        action = "pick"
    if action == "search":
        context["found"] = _search(form.query)
    station_ids, context["suggestions"] = _resolve_stations(form)
    if action in ("preview", "save", "publish") and not form.errors:
        data = form.flag_data(station_ids)
        try:
            if action != "preview":
                data = _resolve_contested(flag, data, form, principal)
            return _act(action, form, flag, data, principal, context)
        except Conflict as err:
            context["conflict"] = _conflict(err, form, flag, data)
        except (InvalidFlag, InvalidQuery) as err:  # a 403 or a store failure is no field problem
            _field_error(form, err, context)
    return _render_form(form, flag, **context)


def _act(action, form, flag, data, principal, context):
    digest = _digest(data)
    goes_live = action == "publish" or (
        action == "save" and flag is not None and flag.status is FlagStatus.PUBLISHED
    )
    if goes_live and request.form.get("previewed") != digest:
        # Whatever reaches passengers is only saved after the operator has seen the impact
        # of exactly this flag; if anything changed since, show the preview again first.
        flash(gettext("The flag changed since the preview; check the impact, then publish."))
        action = "preview"
    if action == "preview":
        impact = operations().preview_impact(data, principal)
        context.update(impact=ImpactView(
            impact, services().network, current_locale(), services().risk_state.war_layer
        ))
        return _render_form(form, flag, previewed=digest, **context)
    saved = _save(flag, data, form, principal, publish=action == "publish")
    message = (
        gettext("Flag %(id)s published (version %(v)d).", id=page_words().title(saved),
                v=saved.version)
        if saved.status is FlagStatus.PUBLISHED
        else gettext("Flag %(id)s saved as a draft (version %(v)d).",
                     id=page_words().title(saved), v=saved.version)
    )
    flash(message)
    return redirect(console_url("operator.flag_page", flag_id=saved.id))


def _save(flag, data, form, principal, publish: bool) -> Flag:
    ops = operations()
    if flag is None:
        status = FlagStatus.PUBLISHED if publish else FlagStatus.DRAFT
        return ops.create_flag({**data, "status": status.value}, principal)
    version = posted_version(request.form)
    if flag_changes(_editable(flag), _editable_data(data)):
        flag = ops.update_flag(flag.id, data, version, principal, replace_all=True)
        version = flag.version
    if publish and flag.status is FlagStatus.DRAFT:
        flag = ops.publish_flag(flag.id, version, principal)
    return flag


def _editable(flag: Flag) -> dict:
    return _editable_data(flag_to_dict(flag))


def _editable_data(data: dict) -> dict:
    # Normalise through the parser, so "2026-03-12T10:00" (Kyiv) equals the stored UTC time.
    try:
        parsed = flag_to_dict(flag_from_dict({**data, "id": "x"}))
    except AdvisorError:
        return dict(data)
    return {k: v for k, v in parsed.items() if k not in ("id", "status", "version")}


def _digest(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:32]


# What the console says, in the page language, for errors of the flag parser (whose own
# messages are English and written for API clients).
_FIELD_MESSAGES = {
    "target.line_id": _l("Choose a line."),
    "line": _l("Choose a line."),
    "target.station_id": _l("Choose a station."),
    "target.oblast_iso": _l("Choose one of Ukraine's oblasts."),
    "target.from_station": _l("Choose the first station."),
    "target.lat": _l("Enter a latitude between -90 and 90."),
    "target.lon": _l("Enter a longitude between -180 and 180."),
    "target.radius_km": _l("Enter a radius above 0 and at most 500 km."),
    "target.ring": _l("Enter at least 3 corner points, one “lat, lon” per line."),
    "level": _l("Choose a level."),
    "reason_uk": _l(
        "Give a reason in Ukrainian or English: plain text (no control characters), "
        "at most 1000 characters."
    ),
    "reason_en": _l("The English reason must be plain text of at most 1000 characters."),
    "source": _l("Name the source (who says so): plain text of at most 300 characters."),
    "active_from": _l("Enter a Kyiv time between 1970 and 2999, e.g. 12.03.2026 08:00."),
    "active_until": _l("Enter a Kyiv time between 1970 and 2999, e.g. 12.03.2026 08:00."),
}


def _console_message(form: FlagForm, err: AdvisorError) -> str:
    """*err* in the page language; the parser's English text only when nothing fits."""
    if err.field == "active_until" and "before it starts" in err.message:
        return gettext(
            "The window must end after it starts (Kyiv time: %(start)s – %(end)s).",
            start=form.active_from.replace("T", " "), end=form.active_until.replace("T", " "),
        )
    if err.field == "target.ring" and "crosses itself" in err.message:
        return gettext("The corner points draw a shape that crosses itself or has no area.")
    if err.field == "target.to_station":
        if "to itself" in err.message:
            return gettext("Choose two different stations.")
        return gettext("Choose the second station.")
    if err.field in ("target.from_station", "target.to_station") and "not on line" in err.message:
        return gettext("This station is not on the chosen line.")
    known = _FIELD_MESSAGES.get(err.field or "")
    return str(known) if known is not None else err.message


def _field_error(form: FlagForm, err: AdvisorError, context: dict) -> None:
    name = field_of_error(form, err.field)
    form.errors[name] = _console_message(form, err)
    if err.suggestions:
        form.errors[name] += " " + gettext(
            "Did you mean: %(names)s?", names=", ".join(err.suggestions)
        )


MERGED_FIELDS = ("level", "target", "reason_uk", "reason_en", "source", "active_from",
                 "active_until")


def _conflict(err: Conflict, form: FlagForm, flag: Flag | None, data: dict) -> dict:
    """What changed since the version the operator opened, merged into the form.

    A field only the other operator changed takes their value (saving again must not
    silently revert it); a field only this operator changed keeps theirs; a field both
    changed differently is *contested*: the form keeps this operator's value and saving
    needs an explicit choice for it (:func:`_resolve_contested`).
    """
    current = flag_to_dict(operations().get_flag(flag.id, g.principal)) if flag else {}
    versions = operations().flag_history(flag.id, g.principal) if flag else []
    opened = next((v for v in versions if str(v.version) == form.version), None)
    base, theirs_now = _editable(opened) if opened else {}, _editable_data(current)
    mine = _editable_data(data)
    merged, contested = dict(mine), []
    for name in MERGED_FIELDS:
        they_changed = base.get(name) != theirs_now.get(name)
        i_changed = base.get(name) != mine.get(name)
        if they_changed and not i_changed:
            merged[name] = theirs_now.get(name)
        elif they_changed and mine.get(name) != theirs_now.get(name):
            contested.append(name)
    _refill(form, {k: v for k, v in merged.items() if v is not None}, flag, current)
    return {
        "message": err.message,
        "current_version": form.version,
        "current_author": current.get("author", ""),
        "rows": [
            (name, old, new, data.get(name), name in contested)
            for name, old, new in flag_changes(base, theirs_now)
        ],
        "contested": contested,
    }


def _refill(form: FlagForm, merged: dict, flag: Flag, current: dict) -> None:
    """Show *merged* in the form, now editing the current version."""
    refilled = FlagForm.from_flag(
        flag_from_dict({**merged, "id": flag.id, "status": current.get("status", "draft"),
                        "version": current.get("version", 1)}),
        _station_name,
    )
    refilled.query, refilled.errors = form.query, form.errors
    form.__dict__.update(refilled.__dict__)


def _resolve_contested(flag: Flag | None, data: dict, form: FlagForm, principal) -> dict:
    """After a conflict: each contested field needs "mine" or "theirs" before saving."""
    names = [n for n in request.form.get("contested", "").split(",") if n in MERGED_FIELDS]
    if flag is None or not names:
        return data
    choices = {name: request.form.get(f"choose_{name}", "") for name in names}
    missing = [name for name, choice in choices.items() if choice not in ("mine", "theirs")]
    if missing:
        raise InvalidQuery(
            gettext("Choose whose value to keep for: %(fields)s.",
                    fields=", ".join(str(LABELS.get(n, n)) for n in missing)),
            field="form",
        )
    current = flag_to_dict(operations().get_flag(flag.id, principal))
    resolved = dict(data)
    for name, choice in choices.items():
        if choice == "theirs":
            if current.get(name) is None:
                resolved.pop(name, None)
            else:
                resolved[name] = current[name]
    return resolved


# --- target search and stations ------------------------------------------------------------


def _search(query: str) -> list[tuple[str, str, str]]:
    """``(pick value, kind label key, name)`` of lines, stations and oblasts matching *query*."""
    key = matching_key(query) if query.strip() else ""
    if not key:
        return []
    network, locale = services().network, current_locale()
    found = [
        (f"line:{line.id}", "line", line.display_name(locale))
        for line in sorted(network.lines.values(), key=lambda li: sort_key(li.display_name(locale)))
        if key in matching_key(f"{line.name_uk} {line.name_en} {line.id}")
    ][:SEARCH_LIMIT]
    try:
        matches = services().station_index.search(query, limit=SEARCH_LIMIT)
    except InvalidQuery:
        matches = []
    found += [(f"station:{m.station.id}", "station", _station_label(m.station)) for m in matches]
    found += [
        (f"oblast:{iso}", "oblast", oblast_name(iso, locale))
        for iso in _oblasts_by_name(locale)
        if key in matching_key(f"{_oblast_words(iso, network)} {iso}")
    ]
    return found


def _oblasts_by_name(locale: str) -> list[str]:
    """Every oblast of Ukraine (whether or not the network has stations there), by name."""
    return sorted(UKRAINE_OBLAST_CODES, key=lambda iso: sort_key(oblast_name(iso, locale)))


def _oblast_words(iso: str, network) -> str:
    """What an oblast may be searched by: its names in both languages and the dataset's
    English name ("Odessa Oblast")."""
    known = network.oblasts.get(iso)
    return " ".join(
        (oblast_name(iso, "uk"), oblast_name(iso, "en"), known.name_en if known else "")
    )


def _apply_pick(form: FlagForm, pick: str) -> None:
    kind, _, value = pick.partition(":")
    network = services().network
    if kind == "line" and value in network.lines:
        if form.kind != "section":
            form.kind = "line"
        form.line_id = form.section_line_id = value
    elif kind == "oblast" and value in UKRAINE_OBLAST_CODES:
        form.kind, form.oblast_iso = "oblast", value
    elif kind in ("station", "from_station", "to_station") and network.find_station(value):
        if kind == "station" and form.kind != "station":
            form.kind = "station"
        setattr(form, kind, _station_name(value))
        setattr(form, f"{kind}_id", value)


def _resolve_stations(form: FlagForm) -> tuple[dict[str, str], dict[str, list]]:
    """Station ids for the kind's station fields; problems and choices go to the form."""
    ids, suggestions = {}, {}
    for name in form.station_fields():
        text, hint = getattr(form, name), getattr(form, f"{name}_id")
        if not text:
            form.errors[name] = gettext("Enter a station name.")
            continue
        try:
            station = _resolve(text, hint)
        except (UnknownStation, InvalidQuery) as err:
            form.errors[name] = err.message
            suggestions[name] = _suggest(text)
            continue
        if station is None:
            form.errors[name] = gettext("Several stations match “%(text)s”; pick one.", text=text)
            suggestions[name] = _suggest(text)
            continue
        ids[name] = station.id
        # Show the station that was matched, not the typed text, so a fuzzy match is seen.
        setattr(form, name, _station_name(station.id))
        setattr(form, f"{name}_id", station.id)
    return ids, suggestions


def _resolve(text: str, hint: str):
    """The station *text* names (the hinted one when the name still matches), None if
    several match equally."""
    network = services().network
    hinted = network.find_station(hint) if hint else None
    if hinted and text.casefold() in {n.casefold() for n in _names(hinted)}:
        return hinted
    if network.find_station(text):
        return network.find_station(text)
    index = services().station_index
    if index.is_ambiguous(text):
        return None
    return index.resolve(text)


def _suggest(text: str) -> list[tuple[str, str]]:
    index = services().station_index
    try:
        matches = index.search(text, limit=SEARCH_LIMIT) or index.suggest(text, limit=SEARCH_LIMIT)
    except InvalidQuery:
        return []
    return [(m.station.id, _station_label(m.station)) for m in matches]


def _names(station) -> tuple[str, ...]:
    return (station.name_uk, station.display_name("en"), _station_label(station))


def _station_name(station_id: str) -> str:
    station = services().network.find_station(station_id)
    return station.display_name(current_locale()) if station else station_id


def _station_label(station) -> str:
    """A name that tells stations apart: "Куп’янськ-Вузловий (залізнична станція, Харківська
    область)"."""
    kind = LABELS.get(station.kind.value, station.kind.value)
    oblast = oblast_name(station.oblast_iso, current_locale())
    return f"{station.display_name(current_locale())} ({kind}, {oblast})"


# --- rendering -------------------------------------------------------------------------------


# What the flag page shows only sometimes; named here so the template never meets an
# undefined name (the app's templates fail on one).
_FLAG_PAGE_DEFAULTS = {"conflict": None, "impact": None, "previewed": "", "suggestions": None}


def _render_form(form: FlagForm, flag: Flag | None, **context):
    context = {**_FLAG_PAGE_DEFAULTS, **context}
    status = 400 if form.errors else (409 if context.get("conflict") else 200)
    return (
        render_template(
            "operator/flag.html",
            form=form,
            flag=flag,
            section_stations=_section_stations(form),
            **_choices(),
            **context,
        ),
        status,
    )


def _section_stations(form: FlagForm) -> list[tuple[str, str]]:
    line = services().network.lines.get(form.section_line_id)
    if line is None:
        return []
    return [(sid, _station_name(sid)) for sid in line.station_ids]


def _choices() -> dict:
    network, locale = services().network, current_locale()
    lines = sorted(network.lines.values(), key=lambda li: sort_key(li.display_name(locale)))
    return {
        "kinds": KINDS,
        "levels": LEVELS,
        "statuses": STATUSES,
        "lines": [(li.id, li.display_name(locale)) for li in lines],
        "oblasts": [(iso, oblast_name(iso, locale)) for iso in _oblasts_by_name(locale)],
    }


def _changed_keys(entry) -> list[str]:
    before, after = entry.before or {}, entry.after or {}
    keys = sorted(set(before) | set(after))
    return [k for k in keys if before.get(k) != after.get(k) and k not in ("updated_at",)]
