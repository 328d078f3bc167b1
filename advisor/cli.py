"""The ``advisor`` command: build the dataset, search, route, serve, manage accounts."""

from __future__ import annotations

import json
from pathlib import Path

import click

from advisor.errors import AdvisorError

__all__ = ["main"]


@click.group()
def main():
    """Route-risk advisor for Ukraine's rail and intercity bus network."""


@main.group()
def network():
    """Build and inspect the shipped network dataset."""


@network.command("build")
@click.option("--sources", type=click.Path(path_type=Path), help="Raw source directory.")
@click.option("--out", type=click.Path(path_type=Path), help="Dataset file to write.")
def network_build(sources, out):
    """Build the network dataset from the raw sources and print what was found and repaired."""
    from advisor.network.dataset import write_dataset
    from advisor.network.importer import build_network
    from advisor.settings import load_settings

    settings = load_settings()
    try:
        net, report = build_network(
            sources or settings.network_sources,
            settings.speed_model_path,
            settings.lines_path,
            settings.hand_links_path,
        )
        version = write_dataset(net, out or settings.network_dataset)
        war_out = (out.parent / settings.war_geography_path.name) if out else None
        war = _build_war_geography(
            sources or settings.network_sources, war_out or settings.war_geography_path
        )
    except AdvisorError as err:
        raise click.ClickException(err.message) from err
    click.echo(report.format())
    click.echo(f"wrote {out or settings.network_dataset} (version {version})")
    click.echo(f"wrote {war_out or settings.war_geography_path} ({war})")


def _build_war_geography(sources: Path, out: Path) -> str:
    """Write the war geography file beside the dataset; returns a one-line summary."""
    from advisor.network.war import build_war_geography, write_war_geography

    if not (Path(sources) / "war").is_dir():
        return f"no war/ folder in {sources}: war geography NOT written (the old file stays)"
    document = build_war_geography(sources)
    sha = write_war_geography(document, out)
    return (
        f"occupied territory: {document['source']} map of {document['map_date']}, "
        f"sha256 {sha[:12]}"
    )


@network.command("info")
@click.option("--dataset", type=click.Path(path_type=Path), help="Dataset file to read.")
def network_info(dataset):
    """Print the version, sources and figures of the network dataset."""
    from advisor.network.dataset import describe, load_network

    try:
        net = load_network(dataset)
    except AdvisorError as err:
        raise click.ClickException(err.message) from err
    click.echo(describe(net))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Requests each worker serves at once (gthread workers).")
def serve(host, port, workers, threads):
    """Run the service under gunicorn (a production WSGI server) on the embedded defaults."""
    from advisor.gunicorn_conf import SETTINGS
    from advisor.wsgi import Server

    # The master loads the network once (workers share it copy-on-write); each worker
    # builds the app, with its own database connections, after the fork.
    Server(
        {**SETTINGS, "bind": f"{host}:{port}", "workers": workers, "threads": threads}
    ).run()


@main.group()
def stations():
    """Find stations and stops."""


@stations.command("search")
@click.argument("text")
@click.option("--limit", default=10, show_default=True, type=int, help="Most results to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--dataset", type=click.Path(path_type=Path), help="Dataset file to read.")
def stations_search(text, limit, as_json, dataset):
    """Search stations by name in any script, spelling or keyboard layout, best first."""
    from advisor.network.dataset import load_network
    from advisor.network.search import StationIndex

    try:
        matches = StationIndex.build(load_network(dataset)).search(text, limit=limit)
    except AdvisorError as err:
        raise click.ClickException(err.message) from err
    _echo_rows(
        [_match_row(m) for m in matches],
        as_json,
        f"no station matches {text!r}",
        lambda row: (
            f"{row['id']:<24} {row['score']:5.1f}  {row['name_uk']} ({row['name_latin']}), "
            f"{row['kind']}, {row['oblast_iso'] or '-'}  [matched {row['matched']!r}]"
        ),
    )


def _echo_rows(rows: list[dict], as_json: bool, empty: str, line) -> None:
    """Print *rows* as JSON, or one ``line(row)`` each (*empty* when there are none)."""
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo(empty)
    for row in rows:
        click.echo(line(row))


def _match_row(match) -> dict:
    station = match.station
    return {
        "id": station.id,
        "name_uk": station.name_uk,
        "name_latin": station.name_latin,
        "kind": station.kind.value,
        "oblast_iso": station.oblast_iso,
        "is_main": station.is_main,
        "score": match.score,
        "matched": match.matched,
    }


# --- timetables (issue 7) ---------------------------------------------------------------


@main.group()
def feeds():
    """Import GTFS timetables."""


@feeds.command("import")
@click.argument("paths", nargs=-1, required=True)
@click.option("--out", type=click.Path(path_type=Path), help="Timetable file to write.")
@click.option("--mapping", type=click.Path(path_type=Path), help="CSV stop_id,station_id.")
@click.option("--dataset", type=click.Path(path_type=Path), help="Network dataset to match.")
def feeds_import(paths, out, mapping, dataset):
    """Import GTFS feeds (folder, zip or URL of a zip), match stops, save the timetable."""
    from advisor.feeds.timetables import import_feeds, timetable_path
    from advisor.network.dataset import load_network
    from advisor.settings import load_settings

    settings = load_settings()
    try:
        network = load_network(dataset or settings.network_dataset)
        outcome = import_feeds(
            paths, network, mapping=mapping, out=out or timetable_path(settings),
            progress=_progress,
        )  # fmt: skip
    except AdvisorError as err:
        raise click.ClickException(err.message) from err
    click.echo("", err=True)
    for report in outcome.reports:
        click.echo(report.summary())
    tt = outcome.timetable
    click.echo(f"{tt.trip_count} trips, {tt.stop_time_count} stop times -> {outcome.path}")


def _progress(name: str, rows: int) -> None:
    click.echo(f"\r  {name}: {rows:,} rows", nl=False, err=True)


@main.command("departures")
@click.argument("station")
@click.option("--at", help="Time (ISO 8601; default now).")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def departures_command(station, at, limit, as_json):
    """Next timetabled departures from STATION with their risk badges."""
    from advisor.settings import load_settings

    try:
        # The published flags in the store, as for routing (baseline only if none given).
        board = _route_services(load_settings(), ()).departures(station, at, limit)
    except AdvisorError as err:
        raise click.ClickException(err.message) from err
    _echo_rows(
        [_departure_row(d) for d in board],
        as_json,
        "no departures",
        lambda row: (
            f"{row['departure'][11:16]}  {row['route_name']:<12} {row['headsign']}"
            + (f"  [{row['risk_level']}]" if row["risk_level"] else "")
        ),
    )


def _departure_row(departure) -> dict:
    return {
        "departure": departure.departure.isoformat(),
        "route_name": departure.route_name,
        "headsign": departure.headsign,
        "trip_id": departure.trip_id,
        "mode": departure.mode.value,
        "destination": departure.destination,
        "risk_level": departure.risk_level.value if departure.risk_level else None,
        "flags": [flag.id for flag in departure.flags],
        "time_source": "timetable",
    }


# --- flag store: database, accounts, API tokens (issue 4) ---------------------------------


def _operations():
    from advisor.services import open_operations
    from advisor.settings import load_settings

    try:
        return open_operations(load_settings())
    except AdvisorError as err:
        raise click.ClickException(err.message) from err


@main.group()
def db():
    """The flag store's database (SQLite in the instance folder unless configured)."""


@db.command("upgrade")
def db_upgrade():
    """Migrate the database to the newest schema (the service also does this on start)."""
    ops = _operations()
    click.echo(f"database at revision {ops.schema_revision()} ({ops.store.backend})")


@main.group()
def users():
    """Accounts of operators, viewers and admins."""


@users.command("create")
@click.argument("username")
@click.option(
    "--role", type=click.Choice(["viewer", "operator", "admin"]), default="operator",
    show_default=True,
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_create(username, role, password_stdin):
    """Create an account (asks for the password twice unless --password-stdin)."""
    import sys

    from advisor.services import COMMAND_LINE

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = _operations().create_user(username, password, role, COMMAND_LINE)
    except AdvisorError as err:
        raise click.ClickException(err.message) from err
    click.echo(f"created {user.role.value} account {user.username!r}")


@users.command("update")
@click.argument("username")
@click.option("--role", type=click.Choice(["viewer", "operator", "admin"]), help="New role.")
@click.option("--enable/--disable", "active", default=None, help="Restore or disable the account.")
@click.option("--password", "new_password", is_flag=True, help="Set a new password (asked twice).")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
def users_update(username, role, active, new_password, password_stdin):
    """Change an account: restore a disabled one, change its role or its password."""
    import sys

    from advisor.services import COMMAND_LINE

    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif new_password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if role is None and active is None and password is None:
        raise click.UsageError("say what to change: --role, --enable/--disable or --password")
    try:
        user = _operations().update_user(
            username, COMMAND_LINE, role=role, active=active, password=password
        )
    except AdvisorError as err:
        raise click.ClickException(err.message) from err
    state = "active" if user.active else "disabled"
    click.echo(f"{user.username!r} is now {user.role.value}, {state}")


@users.command("list")
def users_list():
    """List accounts."""
    from advisor.services import COMMAND_LINE

    for user in _operations().list_users(COMMAND_LINE):
        state = "" if user.active else "  (disabled)"
        click.echo(f"{user.username:<24} {user.role.value:<9}{state}")


@main.group()
def tokens():
    """API tokens: shown once, stored hashed, scoped to a role, revocable."""


@tokens.command("create")
@click.argument("username")
@click.option("--name", required=True, help="What the token is for (shown in lists).")
@click.option(
    "--role", type=click.Choice(["viewer", "operator", "admin"]),
    help="Scope (default: the account's role; never more).",
)
def tokens_create(username, name, role):
    """Create an API token for USERNAME and print it once."""
    from advisor.services import COMMAND_LINE

    try:
        issued = _operations().create_token(username, name, role, COMMAND_LINE)
    except AdvisorError as err:
        raise click.ClickException(err.message) from err
    click.echo(issued.secret)
    click.echo(
        f"token {issued.token.id} ({issued.token.role.value}) for {username!r}: "
        "copy it now, it is not shown again",
        err=True,
    )


@tokens.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id):
    """Revoke token TOKEN_ID; it stops working at once."""
    from advisor.services import COMMAND_LINE

    try:
        token = _operations().revoke_token(token_id, COMMAND_LINE)
    except AdvisorError as err:
        raise click.ClickException(err.message) from err
    click.echo(f"revoked token {token.id} ({token.name}) of {token.username!r}")


@tokens.command("list")
@click.option("--user", "username", help="Only this account's tokens.")
def tokens_list(username):
    """List tokens (never their secrets)."""
    from advisor.services import COMMAND_LINE

    for t in _operations().list_tokens(COMMAND_LINE, username):
        used = t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "never"
        state = "revoked" if t.revoked else "active"
        click.echo(
            f"{t.id:>4}  {t.prefix}…  {t.username:<16} {t.role.value:<9} {state:<8} "
            f"last used {used}  {t.name}"
        )


@main.command("route")
@click.argument("origin")
@click.argument("destination")
@click.option("--at", help="Departure time, ISO 8601 (naive = Kyiv time; default now).")
@click.option("--tolerance", help="strict, balanced (default) or accept-high.")
@click.option("--modes", help="rail, bus or rail,bus (default both).")
@click.option("--max-transfers", help="Most changes between vehicles (default 4).")
@click.option(
    "--flags",
    "flag_files",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Flag file (JSON or TOML), repeatable; instead of the flag store. Baseline flags apply.",
)
@click.option("--lang", type=click.Choice(["uk", "en"]), default="uk", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON answer.")
def route_command(origin, destination, at, tolerance, modes, max_transfers, flag_files, lang,
                  as_json):
    """Advise on a journey FROM → TO (station ids or names), avoiding flagged risk."""
    from advisor.settings import load_settings

    settings = load_settings()
    try:
        services = _route_services(settings, flag_files)
        query = services.query(origin, destination, at=at, tolerance=tolerance, modes=modes,
                               max_transfers=max_transfers)
        advice = services.advise(query)
    except AdvisorError as err:
        hint = f" (did you mean: {', '.join(err.suggestions)})" if err.suggestions else ""
        raise click.ClickException(err.message + hint) from err
    if as_json:
        from advisor.api.schema import advice_to_json

        payload = advice_to_json(advice, services.network, lang)
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
        return
    for line in _advice_lines(advice, services.network, lang):
        click.echo(line)


def _route_services(settings, flag_files):
    """Services reading flags from the given files (plus the baseline), else from the store."""
    from advisor.services import FileFlagSource, Services, connect_store

    if flag_files:
        source = FileFlagSource([settings.baseline_flags_path, *flag_files], strict=True)
        return Services(settings, flag_source=source)
    return connect_store(settings)[0]


def _advice_lines(advice, network, lang):
    """The answer as plain text: notices, then each option with its legs."""
    from advisor.network.model import Mode

    for notice in advice.notices:
        yield f"! {notice.message(lang)}"
    for number, option in enumerate(advice.options, start=1):
        kinds = ", ".join(k.value for k in (option.kind, *option.also_kinds))
        hours, minutes = divmod(round(option.travel_minutes), 60)
        estimated = any(leg.is_estimated for leg in option.legs if leg.mode is not Mode.TRANSFER)
        source = ("~", "(estimate)") if estimated else ("", "(timetable)")
        yield ""
        yield (f"{number}. [{option.verdict.value}] {kinds}: {source[0]}{hours} h {minutes:02d} "
               f"min {source[1]}, {option.distance_km:.0f} km, {option.transfers} transfer(s)")
        yield f"   {option.explanation(lang)}"
        for leg in option.legs:
            a = network.stations[leg.from_id].display_name(lang)
            b = network.stations[leg.to_id].display_name(lang)
            risk = f"  [{leg.risk_level.value}]" if leg.risk_level else ""
            est = "~" if leg.is_estimated else ""
            mode = "walk/transfer" if leg.mode is Mode.TRANSFER else leg.mode.value
            yield f"   - {mode:13} {a} → {b}  {est}{leg.travel_minutes:.0f} min{risk}"
            yield from _leg_detail_lines(leg, network, lang)


def _leg_detail_lines(leg, network, lang):
    """A leg's stations passed, possible changes inside it and its risk badges."""
    from advisor.routing.explain import leg_badges

    words = {"uk": ("через", "можлива пересадка"), "en": ("via", "possible change")}[lang]
    for word, ids in zip(words, (leg.via_ids, leg.change_ids), strict=True):
        if ids:
            names = ", ".join(network.stations[sid].display_name(lang) for sid in ids)
            yield f"       {word}: {names}"
    for badge in leg_badges(leg, lang):
        yield f"       ! {badge}"

@main.group()
def alerts():
    """Air-raid alerts (alerts.in.ua): the one poller of a deployment."""


@alerts.command("poll")
@click.option("--once", is_flag=True, help="Poll once, print the outcome and stop.")
def alerts_poll(once):
    """Poll the alert feed into the store until stopped (one per deployment; the lease in the
    store keeps a second poller idle)."""
    import signal
    import threading

    from advisor.feeds.air_alerts import FEED_NAME
    from advisor.services.alerts import open_alert_poller
    from advisor.settings import load_settings
    from advisor.store import AlertStore, open_store

    settings = load_settings()
    if not settings.air_alerts_enabled:
        raise click.ClickException("no alert feed configured: set ADVISOR_AIR_ALERTS_TOKEN")
    try:
        store = open_store(settings.effective_database_url)
    except AdvisorError as err:
        raise click.ClickException(err.message) from err
    poller = open_alert_poller(settings, AlertStore(store.engine))
    if once:
        outcome = poller.poll_once()
        if outcome.polled:  # a run from cron: the next run may be another process
            poller.store.release_lease(FEED_NAME, poller.holder)
        click.echo(_poll_line(outcome))
        if outcome.error:
            raise SystemExit(1)
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo(f"polling {poller.client.url} every {settings.alerts_poll_seconds:g} s "
               f"as {poller.holder}")
    try:
        poller.run(stop)
    except KeyboardInterrupt:
        stop.set()


def _poll_line(outcome, what: str = "alerts") -> str:
    if not outcome.polled:
        return "another poller holds the lease; not polled"
    if outcome.error:
        return f"failed: {outcome.error} (next poll in {outcome.next_poll_seconds:g} s)"
    problems = "".join(f"\n  skipped: {p}" for p in outcome.problems)
    return f"{what} {'changed' if outcome.changed else 'unchanged'}" + problems


@main.group("partner-feeds")
def partner_feeds():
    """Partner GTFS-realtime alert feeds: their entities become draft flags to review."""


@partner_feeds.command("poll")
@click.option("--once", is_flag=True, help="Poll each feed once, print the outcome and stop.")
def partner_feeds_poll(once):
    """Poll every partner feed into draft flags until stopped (one poller per feed and
    deployment: the lease in the store keeps a second one idle). Nothing is published."""
    import signal
    import threading

    from advisor.services import connect_store
    from advisor.settings import load_settings

    settings = load_settings({"alerts_poll_in_app": False})
    if not settings.partner_alert_feeds:
        raise click.ClickException("no partner feeds configured: see [[alerts.partner_feeds]]")
    try:
        services, operations = connect_store(settings)
        pollers = operations.partner_feeds.pollers(settings, services.network)
    except AdvisorError as err:
        raise click.ClickException(err.message) from err
    if once:
        failed = False
        for poller in pollers:
            outcome = poller.poll_once()
            if outcome.polled:  # a run from cron: the next run may be another process
                poller.store.release_lease(poller.lease_name, poller.holder)
            click.echo(f"{poller.client.name}: " + _poll_line(outcome, "entities"))
            failed = failed or bool(outcome.error)
        if failed:
            raise SystemExit(1)
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threads = [threading.Thread(target=p.run, args=(stop,), name=p.lease_name) for p in pollers]
    for poller, thread in zip(pollers, threads, strict=True):
        click.echo(f"polling {poller.client.url} every {poller.poll_seconds:g} s as "
                   f"{poller.holder}")  # fmt: skip
        thread.start()
    try:
        while any(t.is_alive() for t in threads):
            stop.wait(1.0)
    except KeyboardInterrupt:
        stop.set()
    for thread in threads:
        thread.join()


# --- war maps (issue 11) -------------------------------------------------------------------


@main.group("war-map")
def war_map():
    """Import, list and roll back the map of the occupied territory."""


@war_map.command("import")
@click.argument("file_or_url")
@click.option("--date", "map_date", help="The map's date, YYYY-MM-DD (default: from its name).")
@click.option("--force", is_flag=True, help="Accept a large change of the occupied area.")
@click.option("--dry-run", is_flag=True, help="Validate and preview; store nothing.")
def war_map_import(file_or_url, map_date, force, dry_run):
    """Validate a map (file or URL), preview its impact and put it in force."""
    import getpass
    from datetime import date

    from advisor.settings import load_settings
    from advisor.war_maps import format_import, import_from

    settings = load_settings()
    try:
        day = date.fromisoformat(map_date) if map_date else None
    except ValueError as err:
        raise click.BadParameter(f"{map_date!r} is not YYYY-MM-DD", param_hint="--date") from err
    try:
        result = import_from(settings, file_or_url, actor=f"console:{getpass.getuser()}",
                             map_date=day, force=force, dry_run=dry_run)
    except AdvisorError as err:
        raise click.ClickException(f"{err.message}; the map in force is unchanged") from err
    from advisor.network.dataset import load_network

    for line in format_import(result, load_network(settings.network_dataset)):
        click.echo(line)
    if dry_run:
        click.echo("dry run: nothing stored")
    else:
        click.echo(f"stored as version {result.record.version}, now in force")


@war_map.command("list")
def war_map_list():
    """List every stored map version (the one in force marked *)."""
    from advisor.settings import load_settings
    from advisor.war_maps import list_war_maps, open_store_for

    try:
        versions = list_war_maps(open_store_for(load_settings()))
    except AdvisorError as err:
        raise click.ClickException(err.message) from err
    if not versions:
        click.echo("no imported map; the shipped map is in force")
    for v in versions:
        mark = "*" if v.active else " "
        when = v.created_at.isoformat(timespec="seconds") if v.created_at else ""
        click.echo(f"{mark}{v.version:>4}  {v.map_date}  {v.source:<14} {v.checksum[:12]}  "
                   f"{v.created_by:<20} {when}  {v.origin}")


@war_map.command("rollback")
@click.argument("version", type=int)
def war_map_rollback(version):
    """Put stored map VERSION back in force."""
    import getpass

    from advisor.settings import load_settings
    from advisor.war_maps import open_store_for, rollback_war_map

    try:
        record = rollback_war_map(open_store_for(load_settings()), version,
                                  actor=f"console:{getpass.getuser()}")
    except AdvisorError as err:
        raise click.ClickException(err.message) from err
    click.echo(f"version {record.version} (map of {record.map_date}) is in force again")


if __name__ == "__main__":  # pragma: no cover
    main()
