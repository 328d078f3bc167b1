"""The answer cache: a hit reads exactly like a fresh answer, and every change that can alter
an answer (publish, withdraw, a window edge, stale data, a timetable) gives a fresh one."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from advisor.network.model import Mode
from advisor.routing.model import NoticeCode
from advisor.routing.planner import plan
from advisor.services import FileFlagSource
from advisor.services.answer_cache import answer_key
from tests.routing.checks import ask
from tests.routing.test_services import (
    LINE_FLAG,
    NOW,
    FlakySource,
    services_with,
    settings,  # noqa: F401 - fixture
)


def _flags(tmp_path, *flags):
    path = tmp_path / "flags.json"
    path.write_text(json.dumps({"flags": list(flags)}, ensure_ascii=False), encoding="utf-8")
    return FileFlagSource([path]).load_flags()


def _fresh(services, query):
    """The answer built without the cache, for comparison."""
    state = services.risk_state
    return plan(services.network, state.index, query, services.freshness(state))


def test_second_ask_is_a_hit_equal_to_a_fresh_answer(settings, tiny_network, tmp_path):  # noqa: F811
    services = services_with(settings, tiny_network, FlakySource(_flags(tmp_path, LINE_FLAG)))
    first = ask(services, "kyiv", "sumy", at=NOW)
    assert not services.answer_cache.last_was_hit()
    later = NOW + timedelta(hours=3)
    second = ask(services, "kyiv", "sumy", at=later)
    assert services.answer_cache.last_was_hit()
    assert second.query.depart_at == later  # the caller's own query, not the cached one
    assert second == _fresh(services, services.query("kyiv", "sumy", at=later))
    assert first.options == second.options
    assert (services.answer_cache.hits, services.answer_cache.misses) == (1, 1)


def test_publish_and_withdraw_give_fresh_answers(settings, tiny_network, tmp_path):  # noqa: F811
    source = FlakySource([])
    services = services_with(settings, tiny_network, source)
    assert ask(services, "kyiv", "sumy", at=NOW).recommended.modes == {Mode.RAIL}
    version = services.risk_state.version
    source.flags = _flags(tmp_path, LINE_FLAG)  # published
    advice = ask(services, "kyiv", "sumy", at=NOW)
    assert services.risk_state.version != version
    assert not services.answer_cache.last_was_hit()
    assert advice.recommended.modes == {Mode.BUS}
    source.flags = []  # withdrawn
    assert ask(services, "kyiv", "sumy", at=NOW).recommended.modes == {Mode.RAIL}
    assert not services.answer_cache.last_was_hit()


def test_same_flags_keep_the_version(settings, tiny_network, tmp_path):  # noqa: F811
    services = services_with(settings, tiny_network, FlakySource(_flags(tmp_path, LINE_FLAG)))
    version = services.refresh_flags().version
    assert services.refresh_flags().version == version
    ask(services, "kyiv", "sumy", at=NOW)
    ask(services, "kyiv", "sumy", at=NOW)
    assert services.answer_cache.last_was_hit()


def test_window_edge_changes_the_answer(settings, tiny_network, tmp_path):  # noqa: F811
    starts = NOW + timedelta(hours=2)
    windowed = dict(LINE_FLAG, active_from=starts.isoformat())
    services = services_with(settings, tiny_network, FlakySource(_flags(tmp_path, windowed)))
    before = ask(services, "kyiv", "sumy", at=starts - timedelta(minutes=1))
    inside = ask(services, "kyiv", "sumy", at=starts)
    assert not services.answer_cache.last_was_hit()
    assert before.recommended.modes == {Mode.RAIL} and inside.recommended.modes == {Mode.BUS}
    ask(services, "kyiv", "sumy", at=starts + timedelta(hours=1))  # same flags in force
    assert services.answer_cache.last_was_hit()


def test_stale_data_is_not_answered_from_a_fresh_copy(settings, tiny_network):  # noqa: F811
    slow = settings.with_overrides(flags_refresh_seconds=3600.0, flags_stale_after_minutes=60)
    services = services_with(slow, tiny_network, FlakySource([]))
    assert not ask(services, "kyiv", "sumy").has_notice(NoticeCode.RISK_DATA_STALE)
    services.clock.now = NOW + timedelta(minutes=61)
    assert ask(services, "kyiv", "sumy").has_notice(NoticeCode.RISK_DATA_STALE)
    assert not services.answer_cache.last_was_hit()


def test_other_questions_are_other_keys(settings, tiny_network, tmp_path):  # noqa: F811
    services = services_with(settings, tiny_network, FlakySource(_flags(tmp_path, LINE_FLAG)))
    state = services.risk_state
    query = services.query("kyiv", "sumy", at=NOW)
    base = answer_key(state, query, None)
    assert answer_key(state, replace(query, depart_at=NOW + timedelta(hours=5)), None) == base
    for other in (
        replace(query, modes=frozenset({Mode.RAIL})),
        replace(query, avoid_stations=frozenset({"konotop"})),
        replace(query, destination="kyiv", origin="sumy"),
    ):
        assert answer_key(state, other, None) != base
    timetable = object()  # with a timetable the departure time itself is in the key
    later = replace(query, depart_at=NOW + timedelta(minutes=1))
    assert answer_key(state, later, timetable) != answer_key(state, query, timetable)
    assert answer_key(state, query, timetable) != base


def test_resolved_names_are_remembered_not_searched_again(
    settings, tiny_network, monkeypatch  # noqa: F811
):
    services = services_with(settings, tiny_network, FlakySource([]))
    first = services.query("Kiev", "Sumy", at=NOW)
    calls = []
    kind = type(services.station_index)
    original = kind.resolve
    monkeypatch.setattr(
        kind, "resolve", lambda self, text: calls.append(text) or original(self, text)
    )
    again = services.query("Kiev", "Sumy", at=NOW)
    services_with(settings, tiny_network, FlakySource([])).query("Kiev", "Sumy", at=NOW)
    assert (again.origin, again.destination) == (first.origin, first.destination) == (
        "kyiv", "sumy")
    assert calls == ["Kiev", "Sumy"]  # only the second Services searched: its memory is empty


def test_threads_asking_at_once_share_one_build(settings, tiny_network):  # noqa: F811
    import threading

    import pytest

    services = services_with(settings, tiny_network, FlakySource([]))
    state, cache = services.risk_state, services.answer_cache
    query = services.query("kyiv", "sumy", at=NOW)
    release, builds = threading.Event(), []

    def build():
        builds.append(1)
        assert release.wait(30)  # a bound for a slow machine, not a timing check
        return _fresh(services, query)

    answers = []
    threads = [threading.Thread(target=lambda: answers.append(cache.answer(state, query, None,
                                                                           build)))
               for _ in range(4)]  # fmt: skip
    for thread in threads:
        thread.start()
    while len(cache._building) == 0 or len(builds) == 0:
        threading.Event().wait(0.01)
    release.set()
    for thread in threads:
        thread.join(30)
    assert len(builds) == 1 and len(answers) == 4
    assert all(answer == _fresh(services, query) for answer in answers)
    assert cache._building == {}

    def failing():
        raise ValueError("engine failed")

    other = services.query("sumy", "kyiv", at=NOW)
    with pytest.raises(ValueError, match="engine failed"):
        cache.answer(state, other, None, failing)
    assert cache._building == {}  # a failed build is not waited for again
    assert cache.answer(state, other, None, lambda: _fresh(services, other)).query == other
