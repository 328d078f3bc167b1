"""Accounts, sign-in, the failure limiter and token scoping (use cases over a real store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher

from advisor.errors import AuthenticationFailed, PermissionDenied, RateLimited
from advisor.services import COMMAND_LINE, FailureLimiter, Operations, Principal, Role
from advisor.settings import load_settings

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def ops(store, tmp_path):
    operations = Operations(store, load_settings({"instance_path": tmp_path}))
    operations.passwords = CHEAP
    return operations


def test_limiter_forgets_failures_after_its_window(store):
    now = [datetime(2026, 3, 1, 12, tzinfo=UTC)]
    limiter = FailureLimiter(store, limit=2, window_seconds=60, clock=lambda: now[0])
    limiter.check("signin", "ann@1.2.3.4")
    limiter.record("signin", "ann@1.2.3.4", "1.2.3.4")
    limiter.record("signin", "ann@1.2.3.4", "1.2.3.4")
    with pytest.raises(RateLimited) as info:
        limiter.record("signin", "ann@1.2.3.4", "1.2.3.4")
    assert info.value.extra["retry_after_seconds"] == 60
    with pytest.raises(RateLimited):
        limiter.check("signin", "ann@1.2.3.4")
    limiter.check("token", "ann@1.2.3.4")  # kinds are counted apart
    limiter.check("signin", "bob@1.2.3.4")  # and credentials
    now[0] += timedelta(seconds=61)
    limiter.check("signin", "ann@1.2.3.4")


class DictCounter:
    """An in-process counting back-end: the limiter needs only count() and add()."""

    def __init__(self):
        self.events: list[tuple[str, datetime]] = []

    def count(self, key, since):
        return sum(1 for k, at in self.events if k == key and at > since)

    def add(self, key, at, prune_before):
        self.events = [(k, t) for k, t in self.events if t >= prune_before] + [(key, at)]


def test_limiter_counting_backend_can_be_swapped():
    counter = DictCounter()
    limiter = FailureLimiter(counter, limit=1, window_seconds=60)
    limiter.record("token", "bad", "1.2.3.4")
    with pytest.raises(RateLimited):
        limiter.record("token", "bad", "1.2.3.4")
    assert {key.split(":")[1] for key, _ in counter.events} == {"c", "a"}


def test_bad_tokens_from_an_address_do_not_lock_out_a_valid_token(ops):
    """Audit finding 2: five bad tokens locked out a valid token from the same address."""
    ops.create_user("kim", "a long enough password", "operator", COMMAND_LINE)
    secret = ops.create_token("kim", "t", None, COMMAND_LINE).secret
    limit = ops.settings.signin_attempts_per_15_minutes
    for attempt in range(limit + 3):
        with pytest.raises((AuthenticationFailed, RateLimited)):
            ops.authenticate_token(f"adv_bad{attempt}", "10.0.0.1")
    with pytest.raises(RateLimited):  # the address is over its limit: failures say 429
        ops.authenticate_token("adv_bad-again", "10.0.0.1")
    assert ops.authenticate_token(secret, "10.0.0.1").name == "kim"


def test_one_bad_token_repeated_is_refused_even_from_new_addresses(ops):
    limit = ops.settings.signin_attempts_per_15_minutes
    for n in range(limit):
        with pytest.raises((AuthenticationFailed, RateLimited)):
            ops.authenticate_token("adv_same", f"10.0.1.{n}")
    with pytest.raises(RateLimited):
        ops.authenticate_token("adv_same", "10.0.2.1")


def test_wrong_passwords_from_one_address_do_not_lock_the_account_elsewhere(ops):
    ops.create_user("lee", "a long enough password", "operator", COMMAND_LINE)
    limit = ops.settings.signin_attempts_per_15_minutes
    for _ in range(limit):
        with pytest.raises((AuthenticationFailed, RateLimited)):
            ops.authenticate("lee", "wrong password!", "203.0.113.9")
    with pytest.raises(RateLimited):  # that account from that address is locked …
        ops.authenticate("lee", "a long enough password", "203.0.113.9")
    # … but the operator at their own desk still signs in.
    assert ops.authenticate("lee", "a long enough password", "10.0.0.7").name == "lee"


def test_disabled_account_cannot_sign_in_and_its_tokens_stop(ops):
    ops.create_user("kim", "a long enough password", "operator", COMMAND_LINE)
    secret = ops.create_token("kim", "t", None, COMMAND_LINE).secret
    assert ops.authenticate_token(secret, "1.1.1.1").role is Role.OPERATOR
    ops.update_user("kim", COMMAND_LINE, active=False)
    with pytest.raises(AuthenticationFailed):
        ops.authenticate("kim", "a long enough password", "1.1.1.1")
    with pytest.raises(AuthenticationFailed):
        ops.authenticate_token(secret, "1.1.1.1")


def test_weak_hashes_are_upgraded_on_sign_in(ops, store):
    ops.create_user("lee", "a long enough password", "viewer", COMMAND_LINE)
    ops.passwords = PasswordHasher()  # the production parameters
    ops.authenticate("lee", "a long enough password", "1.1.1.1")
    assert "m=65536" in store.find_user("lee").password_hash
    assert store.list_audit(object_id="lee")[0].note == "rehash"


def test_only_admins_manage_accounts_and_tokens(ops):
    operator = Principal("op", Role.OPERATOR, "1.1.1.1")
    with pytest.raises(PermissionDenied):
        ops.create_user("x", "a long enough password", "admin", operator)
    with pytest.raises(PermissionDenied):
        ops.list_tokens(operator)
    with pytest.raises(AuthenticationFailed):
        ops.list_users(None)


def test_token_writes_are_audited_as_the_token(ops, store):
    ops.create_user("mo", "a long enough password", "admin", COMMAND_LINE)
    issued = ops.create_token("mo", "robot", "admin", COMMAND_LINE)
    principal = ops.authenticate_token(issued.secret, "9.9.9.9")
    ops.create_user("new", "a long enough password", "viewer", principal)
    entry = store.list_audit(object_id="new")[0]
    assert entry.actor == f"mo (token {issued.token.id})" and entry.address == "9.9.9.9"
    assert store.list_audit(object_id="mo")[0].actor == "cli"
