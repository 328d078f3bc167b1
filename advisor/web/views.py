"""The passenger pages: one GET form that shows its own results.

Thin views: parse the form, resolve the two station texts (with a "did you mean" step when
a text is ambiguous or unknown), build the query with the one parser every adapter shares,
call ``advise`` (timetabled trips where a feed covers the journey, else estimates) and render.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from advisor.errors import InvalidQuery, UnknownStation
from advisor.locale import current_locale
from advisor.network.model import Station
from advisor.web import bp
from advisor.web.forms import MODES, TOLERANCES, JourneyForm
from advisor.web.present import BANNER_NOTICES, LABELS, VERDICT_NOTICES, Presenter

__all__ = ["index"]

log = logging.getLogger(__name__)

SUGGESTIONS = 6


@dataclass
class Resolution:
    """One station field after lookup: a station, or choices to pick from."""

    station: Station | None = None
    choices: tuple[Station, ...] = ()


def _services():
    return current_app.extensions["advisor.services"]


@bp.get("/")
def index():
    """The journey form, and its results when a journey was asked."""
    settings = current_app.extensions["advisor.settings"]
    form = JourneyForm.from_args(request.args, settings.default_tolerance)
    context = {"form": form, "advice": None, "choices": {}, "typed": {}}
    if form.submitted:
        form.validate()
        context.update(_answer(form))
    status = 400 if form.errors else 200
    return render_template("index.html", **{**_form_context(), **context}), status


def _answer(form: JourneyForm) -> dict:
    found = {
        "from": _resolve(form, "from", form.origin, form.origin_id),
        "to": _resolve(form, "to", form.destination, form.destination_id),
    }
    choices = {name: r.choices for name, r in found.items() if r.choices}
    origin, destination = found["from"].station, found["to"].station
    if form.errors or choices or not (origin and destination):
        return {"choices": choices}
    services = _services()
    try:
        query = services.query(
            origin.id,
            destination.id,
            at=form.depart_at(datetime.now(UTC)),
            tolerance=form.tolerance,
            modes=list(form.modes),
        )
    except InvalidQuery as err:
        _refused(form, err)
        return {"choices": {}}
    advice = services.advise(query)
    # The current flag snapshot: normally the one the answer was planned with; after a swap
    # in between, only the map bands and the nearby list may be one refresh newer.
    state = services.risk_state
    presenter = Presenter(
        services.network, current_locale(), state.index, advice.query.depart_at,
        war_layer=state.war_layer, query=advice.query,
    )
    typed = {origin.id: form.origin, destination.id: form.destination}
    return {"advice": advice, "p": presenter, "choices": {}, "typed": typed}


def _refused(form: JourneyForm, err: InvalidQuery) -> None:
    """Show a problem the shared parser found next to its field, in the page's language."""
    value = str(err.value or "")
    messages = {
        "at": ("date", _l("“%(value)s” is too far from today; plan within a year either way.")),
        "to": ("to", _l("Destination is the same place as the origin.")),
        "tolerance": ("tolerance", _l("Unknown risk tolerance “%(value)s”.")),
        "modes": ("modes", _l("Unknown mode “%(value)s”.") if value else _l(
            "Choose at least one way to travel.")),
    }
    field_name, message = messages.get(err.field, (err.field or "from", None))
    shown = form.date if err.field == "at" else value
    form.errors[field_name] = str(message) % {"value": shown} if message else err.message


def _resolve(form: JourneyForm, name: str, text: str, chosen_id: str) -> Resolution:
    """Resolve one field; on trouble record an error or choices and keep the text."""
    if not text:
        return Resolution()
    services = _services()
    chosen = services.network.find_station(chosen_id) if chosen_id else None
    if chosen and text.casefold() in {
        n.casefold() for n in (chosen.name_uk, chosen.display_name("en"))
    }:
        return Resolution(station=chosen)
    index = services.station_index
    try:
        station = index.resolve(text)
        if station.id != text and index.is_ambiguous(text):
            choices = _stations(index.search(text, limit=SUGGESTIONS))
            return _picked(chosen, choices) or Resolution(choices=choices)
        return Resolution(station=station)
    except UnknownStation:
        choices = _stations(index.suggest(text, limit=SUGGESTIONS))
        if picked := _picked(chosen, choices):
            return picked
        form.errors[name] = gettext("No station matches “%(value)s”.", value=text)
        return Resolution(choices=choices)
    except InvalidQuery:  # no letters or digits at all, or too long
        form.errors[name] = gettext("“%(value)s” is not a station name.", value=text)
        return Resolution()


def _picked(chosen: Station | None, choices: tuple[Station, ...]) -> Resolution | None:
    """The station the passenger picked among the offered choices (radio buttons in the
    form, so both fields are settled in one round trip without JavaScript)."""
    if chosen is not None and chosen in choices:
        return Resolution(station=chosen)
    return None


def _stations(matches) -> tuple[Station, ...]:
    return tuple(m.station for m in matches)


def hub_stations(network) -> list[Station]:
    """Stations offered in the suggestion list without JavaScript: the railway's hubs."""
    cache = current_app.extensions.setdefault("advisor.web.hubs", {})
    if id(network) not in cache:
        cache.clear()
        stations = network.stations.values()
        hubs = [s for s in stations if s.uz_code]
        # Networks without railway codes (test networks): their main rail stations.
        cache[id(network)] = hubs or [s for s in stations if s.is_main][:60]
    return cache[id(network)]


def _form_context() -> dict:
    locale = current_locale()
    network = _services().network
    hubs = hub_stations(network)
    return {
        "tolerances": [(t, LABELS[t]) for t in TOLERANCES],
        "modes": [(m, LABELS[m]) for m in MODES],
        "labels": LABELS,
        "banner_notices": BANNER_NOTICES,
        "verdict_notices": VERDICT_NOTICES,
        "p": Presenter(network, locale),
        "hub_names": sorted({s.display_name(locale) for s in hubs}),
    }


def choice_url(form: JourneyForm, field_name: str, station: Station) -> str:
    """The link of one "did you mean" choice: same query, that station picked."""
    name = station.display_name(current_locale())
    params = form.params(**{field_name: name, f"{field_name}_id": station.id})
    return url_for("web.index", lang=current_locale(), **params)
