"""Services.advise and the flag snapshot: raw input validation, swapping, failures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from advisor.cli import main
from advisor.errors import InvalidFlag, InvalidQuery, StoreUnavailable, UnknownLine, UnknownStation
from advisor.network.model import Mode
from advisor.risk.model import Tolerance
from advisor.routing.model import NoticeCode
from advisor.services import FileFlagSource, Services, parse_modes, parse_tolerance
from advisor.settings import load_settings
from tests.clock import Clock
from tests.routing.checks import ask

NOW = datetime(2026, 3, 12, 10, 0, tzinfo=UTC)
LINE_FLAG = {
    "id": "kyiv-sumy-high",
    "level": "high",
    "target": {"kind": "line", "line_id": "kyiv-sumy"},
    "reason_uk": "Дрони біля колії",
    "reason_en": "Drones near the line",
    "source": "Укрзалізниця",
}


class FlakySource:
    """A flag source whose next read can be made to fail."""

    def __init__(self, flags):
        self.flags, self.fail = flags, False

    def load_flags(self):
        if self.fail:
            raise StoreUnavailable("flag store down")
        return list(self.flags)


@pytest.fixture
def settings(tmp_path):
    return load_settings({"instance_path": tmp_path, "flags_refresh_seconds": 0.0})


def services_with(settings, network, source):
    return Services(settings, network=network, flag_source=source, clock=Clock(NOW))


def write_flags(tmp_path, *flags, name="flags.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"flags": list(flags)}, ensure_ascii=False), encoding="utf-8")
    return path


def test_advise_applies_file_flags(settings, tiny_network, tmp_path):
    source = FileFlagSource([write_flags(tmp_path, LINE_FLAG)])
    advice = ask(services_with(settings, tiny_network, source), "kyiv", "sumy", at=NOW)
    assert advice.recommended.modes == {Mode.BUS}
    assert advice.freshness.flags_available and not advice.freshness.flags_stale


def test_raw_inputs_are_parsed(settings, tiny_network, tmp_path):
    services = services_with(settings, tiny_network, FileFlagSource([]))
    advice = ask(services,
        "kyiv", "sumy", at="2026-03-12T12:00", tolerance="strict", modes="bus", max_transfers="2"
    )
    assert advice.query.depart_at == datetime(2026, 3, 12, 10, 0, tzinfo=UTC)
    assert advice.query.tolerance is Tolerance.STRICT
    assert advice.query.modes == {Mode.BUS}
    assert advice.query.max_transfers == 2
    assert parse_modes(["rail", "bus"]) == {Mode.RAIL, Mode.BUS}
    assert parse_tolerance("Accept-High") is Tolerance.ACCEPT_HIGH


@pytest.mark.parametrize(
    ("kwargs", "field", "value"),
    [
        ({"tolerance": "reckless"}, "tolerance", "reckless"),
        ({"modes": "rail,plane"}, "modes", "plane"),
        ({"modes": ""}, None, None),
        ({"at": "tomorrow-ish"}, "at", "tomorrow-ish"),
        ({"max_transfers": "many"}, "max_transfers", "many"),
        ({"max_transfers": 99}, "max_transfers", "99"),
    ],
)
def test_bad_input_names_the_value(settings, tiny_network, kwargs, field, value):
    services = services_with(settings, tiny_network, FileFlagSource([]))
    if field is None:  # empty modes means the default (both)
        assert ask(services, "kyiv", "sumy", **kwargs).query.modes == {Mode.RAIL, Mode.BUS}
        return
    with pytest.raises(InvalidQuery) as info:
        ask(services, "kyiv", "sumy", **kwargs)
    assert info.value.field == field and str(info.value.value) == value
    assert value in info.value.message


def test_unknown_station_and_line(settings, tiny_network):
    services = services_with(settings, tiny_network, FileFlagSource([]))
    with pytest.raises(InvalidQuery) as info:
        ask(services, "  ", "sumy")
    assert info.value.field == "from"
    with pytest.raises(UnknownLine):
        ask(services, "kyiv", "sumy", avoid_lines=["kyiv-moon"])


def test_unknown_station_text_gets_suggestions(settings, shipped_network):
    services = services_with(settings, shipped_network, FileFlagSource([]))
    with pytest.raises(UnknownStation) as info:
        ask(services, "Qwzxy", "Суми")
    assert info.value.field == "from" and info.value.value == "Qwzxy"
    advice = ask(services, "Kiev", "Sumy", at=NOW)
    assert (advice.query.origin, advice.query.destination) == ("kyiv", "sumy")


def test_failure_keeps_last_flags_and_reports_unavailable(settings, tiny_network, tmp_path):
    source = FlakySource(FileFlagSource([write_flags(tmp_path, LINE_FLAG)]).load_flags())
    services = services_with(settings, tiny_network, source)
    first = services.refresh_flags()
    assert first.available and len(first.flags) == 1
    source.fail = True
    advice = ask(services, "kyiv", "sumy", at=NOW)
    assert advice.has_notice(NoticeCode.RISK_DATA_UNAVAILABLE)
    assert advice.recommended.modes == {Mode.BUS}  # the known flag still applies
    state = services.risk_state
    assert not state.available and state.flags == first.flags and state.stale
    source.fail = False
    assert services.refresh_flags().available


def test_unavailable_from_the_start_is_not_no_risk(settings, tiny_network):
    source = FlakySource([])
    source.fail = True
    advice = ask(services_with(settings, tiny_network, source), "kyiv", "sumy", at=NOW)
    assert advice.has_notice(NoticeCode.RISK_DATA_UNAVAILABLE)
    assert not advice.freshness.flags_available


def test_stale_after_the_configured_limit(settings, tiny_network):
    slow = settings.with_overrides(flags_refresh_seconds=3600.0, flags_stale_after_minutes=60)
    services = services_with(slow, tiny_network, FlakySource([]))
    assert not ask(services, "kyiv", "sumy").has_notice(NoticeCode.RISK_DATA_STALE)
    services.clock.now = NOW + timedelta(minutes=61)
    assert ask(services, "kyiv", "sumy").has_notice(NoticeCode.RISK_DATA_STALE)


def test_snapshot_is_swapped_not_mutated(settings, tiny_network, tmp_path):
    source = FlakySource([])
    services = services_with(settings, tiny_network, source)
    before = services.refresh_flags()
    source.flags = FileFlagSource([write_flags(tmp_path, LINE_FLAG)]).load_flags()
    after = services.refresh_flags()
    assert before.flags == () and len(after.flags) == 1 and before.index is not after.index
    assert services.refresh_flags().index is after.index  # same flags: index reused


def test_file_source_strict_and_lenient(tmp_path):
    bad = dict(LINE_FLAG, level="grave")
    path = write_flags(tmp_path, LINE_FLAG, bad)
    lenient = FileFlagSource([path])
    assert len(lenient.load_flags()) == 1 and "flag 2" in lenient.problems[0]
    with pytest.raises(InvalidFlag, match="flag 2: unknown risk level 'grave'"):
        FileFlagSource([path], strict=True).load_flags()
    with pytest.raises(StoreUnavailable, match=r"missing\.json"):
        FileFlagSource([tmp_path / "missing.json"]).load_flags()
    broken = tmp_path / "broken.toml"
    broken.write_text("[[flag]\n", encoding="utf-8")
    with pytest.raises(InvalidFlag, match="not valid toml"):
        FileFlagSource([broken]).load_flags()


def test_cli_route_with_a_flag_file(tmp_path):
    flag = dict(LINE_FLAG, target={"kind": "line", "line_id": "dnipro-zaporizhzhia"})
    path = write_flags(tmp_path, flag)
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "route",
            "dnipro",
            "zaporizhzhia",
            "--flags",
            str(path),
            "--lang",
            "en",
            "--at",
            "2026-03-12T10:00",
        ],
    )
    assert result.exit_code == 0, result.output
    first = result.output.split("\n1. ", 1)[1].splitlines()
    # Zaporizhzhia lies 29 km from occupied ground (war map): caution, not advised.
    assert first[0].startswith("[caution] recommended") and "bus" in "\n".join(first[:6])
    assert "not_advised" in result.output and "estimate" in result.output
    as_json = runner.invoke(
        main, ["route", "dnipro", "zaporizhzhia", "--flags", str(path), "--json"]
    )
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output)["options"]
    bad = runner.invoke(
        main, ["route", "dnipro", "zaporizhzhia", "--flags", str(path), "--tolerance", "reckless"]
    )
    assert bad.exit_code != 0 and "reckless" in bad.output


def test_cli_route_text_names_stations_passed_and_the_war_map_badges():
    runner = CliRunner()
    lviv = runner.invoke(main, ["route", "Київ", "Львів", "--lang", "en",
                                "--at", "2026-03-12T10:00"])
    assert lviv.exit_code == 0, lviv.output
    rail = next(line for line in lviv.output.splitlines() if "Kyiv-Pasazhyrskyi → Lviv" in line)
    after = lviv.output.split(rail, 1)[1].splitlines()
    assert after[1].strip().startswith("via:") and "Vinnytsia" in after[1]
    kherson = runner.invoke(main, ["route", "Київ", "Херсон", "--at", "2026-03-12T10:00"])
    assert kherson.exit_code == 0, kherson.output
    # Kherson lies on the front line: the legs carry the war map's distance badge, dated.
    assert "від лінії фронту (мапа від 22.08.2026)" in kherson.output
    assert "через:" in kherson.output
