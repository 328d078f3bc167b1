"""The repository on SQLite and PostgreSQL: versions, concurrency, accounts, tokens, audit."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from advisor.errors import Conflict, NotFound
from advisor.risk.model import FlagStatus, RiskLevel
from advisor.store import Role, StoreFlagSource, current_revision, head_revision, seed_baseline
from advisor.store.db import upgrade
from tests.store.factories import make_flag


def _publish(flag):
    return replace(flag, status=FlagStatus.PUBLISHED)


def test_migrations_reach_head_and_are_idempotent(store):
    assert current_revision(store.engine) == head_revision()
    assert upgrade(store.engine) == head_revision()
    tables = set(sa.inspect(store.engine).get_table_names())
    assert {"flags", "flag_versions", "users", "api_tokens", "audit_log"} <= tables


def test_add_and_find_flag_round_trips(store):
    flag = make_flag(active_until="2030-01-01T00:00:00+00:00")
    stored = store.add_flag(flag, actor="ops")
    found = store.get_flag(flag.id)
    assert found == stored
    assert found.version == 1 and found.status is FlagStatus.DRAFT
    assert found.active_until == datetime(2030, 1, 1, tzinfo=UTC)
    assert found.updated_at.tzinfo is not None


def test_duplicate_id_is_a_conflict(store):
    flag = make_flag()
    store.add_flag(flag, actor="ops")
    with pytest.raises(Conflict, match=flag.id):
        store.add_flag(flag, actor="ops")


def test_every_change_adds_a_version_and_keeps_the_old_ones(store):
    flag = store.add_flag(make_flag(), actor="ops")
    store.change_flag(flag.id, 1, _publish, actor="ops", action="flag.publish")
    store.change_flag(
        flag.id, 2, lambda f: replace(f, level=RiskLevel.SUSPENDED), actor="ops",
        action="flag.update",
    )
    versions = store.list_flag_versions(flag.id)
    assert [v.version for v in versions] == [1, 2, 3]
    assert [v.status for v in versions] == [FlagStatus.DRAFT, FlagStatus.PUBLISHED] * 1 + [
        FlagStatus.PUBLISHED
    ]
    assert versions[0].level is RiskLevel.HIGH and versions[2].level is RiskLevel.SUSPENDED
    assert versions[1].published_at == versions[2].published_at is not None
    assert store.get_flag(flag.id, version=1) == versions[0]


def test_stale_version_is_refused_with_the_current_one(store):
    flag = store.add_flag(make_flag(), actor="ops")
    store.change_flag(flag.id, 1, _publish, actor="a", action="flag.publish")
    with pytest.raises(Conflict) as info:
        store.change_flag(flag.id, 1, _publish, actor="b", action="flag.publish")
    assert info.value.extra["current_version"] == 2
    assert info.value.extra["current"]["status"] == "published"
    assert len(store.list_flag_versions(flag.id)) == 2


def test_concurrent_writers_on_one_version_exactly_one_wins(store):
    flag = store.add_flag(make_flag(), actor="ops")
    outcomes, barrier = [], threading.Barrier(4)

    def write(n):
        barrier.wait()
        try:
            store.change_flag(
                flag.id, 1, lambda f: replace(f, reason_en=f"edit {n}"), actor=f"w{n}",
                action="flag.update",
            )
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 3 + ["ok"]
    assert [v.version for v in store.list_flag_versions(flag.id)] == [1, 2]


def test_missing_flag_raises_not_found(store):
    assert store.find_flag("nope") is None
    with pytest.raises(NotFound, match="nope"):
        store.get_flag("nope")
    with pytest.raises(NotFound):
        store.change_flag("nope", 1, _publish, actor="x", action="flag.publish")
    with pytest.raises(NotFound):
        store.list_flag_versions("nope")


def test_list_flags_filters_by_status_and_source_sees_published(store):
    draft = store.add_flag(make_flag(), actor="ops")
    live = store.add_flag(make_flag(status="published"), actor="ops")
    assert {f.id for f in store.list_flags()} == {draft.id, live.id}
    assert [f.id for f in store.list_flags(FlagStatus.PUBLISHED)] == [live.id]
    source = StoreFlagSource(store)
    before = source.stamp()
    assert [f.id for f in source.load_flags()] == [live.id]
    store.change_flag(draft.id, 1, _publish, actor="ops", action="flag.publish")
    assert source.stamp() > before
    assert {f.id for f in source.load_flags()} == {draft.id, live.id}


def test_every_write_is_audited_with_before_and_after(store):
    flag = store.add_flag(make_flag(), actor="ann", address="10.0.0.1")
    store.change_flag(flag.id, 1, _publish, actor="bob", address="10.0.0.2", action="flag.publish")
    user = store.add_user("carol", "hash", Role.OPERATOR, actor="admin")
    token = store.add_token(user, "ci", "h" * 64, "adv_abc", Role.VIEWER, actor="admin")
    store.revoke_token(token.id, actor="admin")
    entries = store.list_audit()
    assert [e.action for e in entries] == [
        "token.revoke", "token.create", "user.create", "flag.publish", "flag.create",
    ]
    publish = entries[3]
    assert (publish.actor, publish.address, publish.object_id) == ("bob", "10.0.0.2", flag.id)
    assert publish.before["status"] == "draft" and publish.after["status"] == "published"
    assert "password_hash" not in entries[2].after
    assert entries[0].before["revoked_at"] is None and entries[0].after["revoked_at"]
    assert [e.action for e in store.list_audit(object_id=flag.id)] == [
        "flag.publish", "flag.create",
    ]
    assert len(store.list_audit(limit=2)) == 2
    assert [e.action for e in store.list_audit(before_id=entries[1].id)] == [
        "user.create", "flag.publish", "flag.create",
    ]


def test_users_are_unique_and_changes_audited(store):
    store.add_user("dana", "h1", Role.VIEWER, actor="admin")
    with pytest.raises(Conflict, match="dana"):
        store.add_user("dana", "h2", Role.ADMIN, actor="admin")
    changed = store.change_user("dana", role=Role.OPERATOR, actor="admin")
    assert changed.role is Role.OPERATOR
    assert store.find_user("dana").password_hash == "h1"
    assert store.find_user("nobody") is None
    with pytest.raises(NotFound):
        store.change_user("nobody", active=False, actor="admin")


def test_tokens_found_by_hash_touched_and_revoked(store):
    user = store.add_user("eve", "h", Role.OPERATOR, actor="admin")
    token = store.add_token(user, "deploy", "a" * 64, "adv_aaaa", Role.VIEWER, actor="admin")
    found, owner, stored_hash = store.find_token_by_hash("a" * 64)
    assert (found.id, owner.username, found.role, stored_hash) == (
        token.id, "eve", Role.VIEWER, "a" * 64,
    )
    assert store.find_token_by_hash("b" * 64) is None
    at = datetime(2026, 3, 1, tzinfo=UTC)
    store.touch_token(token.id, at)
    assert store.list_tokens("eve")[0].last_used_at == at
    assert store.revoke_token(token.id, actor="admin").revoked
    assert store.revoke_token(token.id, actor="admin").revoked  # twice is harmless
    with pytest.raises(NotFound):
        store.revoke_token(9999, actor="admin")


def test_auth_failures_count_inside_the_window_and_prune(store):
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    old = now - timedelta(hours=1)
    store.add_auth_failure("signin:1.2.3.4", old, prune_before=old - timedelta(minutes=1))
    for _ in range(3):
        store.add_auth_failure("signin:1.2.3.4", now, prune_before=now - timedelta(minutes=15))
    store.add_auth_failure("signin:5.6.7.8", now, prune_before=now - timedelta(minutes=15))
    assert store.count_auth_failures("signin:1.2.3.4", now - timedelta(minutes=15)) == 3
    assert store.count_auth_failures("signin:1.2.3.4", old - timedelta(minutes=1)) == 3  # pruned


def test_baseline_seeded_once_and_edits_survive_reseeding(store):
    flags = [make_flag(status="draft", author="someone"), make_flag()]
    assert seed_baseline(store, flags) == 2
    seeded = store.get_flag(flags[0].id)
    assert (seeded.status, seeded.baseline, seeded.author) == (
        FlagStatus.PUBLISHED, True, "baseline",
    )
    store.change_flag(
        seeded.id, 1, lambda f: replace(f, status=FlagStatus.WITHDRAWN), actor="ops",
        action="flag.withdraw",
    )
    assert seed_baseline(store, flags) == 0
    assert store.get_flag(seeded.id).status is FlagStatus.WITHDRAWN
    assert store.get_flag(seeded.id).baseline


def test_unreachable_database_is_store_unavailable(tmp_path):
    from advisor.errors import StoreUnavailable
    from advisor.store import Store, make_engine

    store = Store(make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"))
    with pytest.raises(StoreUnavailable):
        store.ping()
    with pytest.raises(StoreUnavailable):
        store.list_flags()


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path):
    from advisor.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    store.engine.dispose()


def _open_in_child(url, queue):
    from advisor.store import current_revision, open_store

    store = open_store(url)
    queue.put(current_revision(store.engine))


def test_several_processes_migrating_at_once_all_succeed(database_url):
    import multiprocessing

    # fork: the children start at once, so they really race for the migration lock.
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    children = [ctx.Process(target=_open_in_child, args=(database_url, queue)) for _ in range(3)]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
    assert [child.exitcode for child in children] == [0, 0, 0]
    assert {queue.get(timeout=5) for _ in children} == {head_revision()}


def test_migrations_create_exactly_the_tables_the_models_describe(store):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from advisor.store.tables import Base

    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_longest_allowed_flag_id_fits_every_backend(store):
    from advisor.risk.parse import MAX_ID_CHARS

    flag = store.add_flag(make_flag(id="x" * MAX_ID_CHARS), actor="ops")
    store.change_flag(flag.id, 1, _publish, actor="ops", action="flag.publish")
    assert store.get_flag(flag.id).version == 2
    assert store.list_audit(object_id=flag.id)[0].action == "flag.publish"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE flag_versions SET level = 'advisory'",
        "DELETE FROM flag_versions",
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
    ],
)
def test_history_is_append_only_in_the_database(store, statement):
    flag = store.add_flag(make_flag(), actor="ops")
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.exec_driver_sql(statement)
    assert store.get_flag(flag.id).level is RiskLevel.HIGH
    assert store.list_audit()[0].actor == "ops"
