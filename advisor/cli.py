"""The ``advisor`` command: build the dataset, search, route, serve, manage accounts."""

from __future__ import annotations

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
    except AdvisorError as err:
        raise click.ClickException(err.message) from err
    click.echo(report.format())
    click.echo(f"wrote {out or settings.network_dataset} (version {version})")


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
def serve(host, port, workers):
    """Run the service under gunicorn (a production WSGI server) on the embedded defaults."""
    from advisor.wsgi import Server

    # No preload: each worker opens its own database connections after the fork.
    Server(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "timeout": 30,
            "graceful_timeout": 10,
            "accesslog": None,  # the app writes one structured line per request itself
        }
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
    import json

    from advisor.network.dataset import load_network
    from advisor.network.search import StationIndex

    try:
        matches = StationIndex.build(load_network(dataset)).search(text, limit=limit)
    except AdvisorError as err:
        raise click.ClickException(err.message) from err
    rows = [_match_row(m) for m in matches]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo(f"no station matches {text!r}")
    for row in rows:
        click.echo(
            f"{row['id']:<24} {row['score']:5.1f}  {row['name_uk']} ({row['name_latin']}), "
            f"{row['kind']}, {row['oblast_iso'] or '-'}  [matched {row['matched']!r}]"
        )


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


if __name__ == "__main__":  # pragma: no cover
    main()
