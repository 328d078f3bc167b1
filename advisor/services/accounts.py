"""Accounts, API tokens, roles and the failed-attempt limiter (use cases over the store)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2.exceptions import InvalidHashError, VerifyMismatchError

from advisor.errors import (
    AuthenticationFailed,
    InvalidQuery,
    NotFound,
    PermissionDenied,
    RateLimited,
)
from advisor.risk.model import utcnow
from advisor.store import Role, Store, Token, User
from advisor.text import check_text

__all__ = [
    "COMMAND_LINE",
    "TOKEN_PREFIX",
    "AccountUseCases",
    "FailureLimiter",
    "IssuedToken",
    "Principal",
    "StoreFailureCounter",
    "hash_token",
    "require_role",
]

TOKEN_PREFIX = "adv_"
_TOKEN_TOUCH_SECONDS = 60.0


@dataclass(frozen=True)
class Principal:
    """Who is asking: an account signed in, or an API token acting for one.

    ``role`` is the effective role (for a token: the lower of the token's and its owner's).
    """

    name: str
    role: Role
    address: str = ""
    token_id: int | None = None

    @property
    def actor(self) -> str:
        """The name written to the audit log (``"ann (token 7)"`` tells a token's writes apart)."""
        return self.name if self.token_id is None else f"{self.name} (token {self.token_id})"



@dataclass(frozen=True)
class IssuedToken:
    """A new API token: ``secret`` is shown once and never stored."""

    token: Token
    secret: str


def require_role(principal: Principal | None, needed: Role) -> Principal:
    """*principal* if it may act as *needed*; raises 401 for nobody, 403 for too little."""
    if principal is None:
        raise AuthenticationFailed("sign in or send an API token (Authorization: Bearer …)")
    if not principal.role.allows(needed):
        raise PermissionDenied(
            f"{principal.name!r} has role {principal.role.value}; this needs {needed.value}",
            extra={"role": principal.role.value, "needed": needed.value},
        )
    return principal


COMMAND_LINE = Principal("cli", Role.ADMIN, "local")
"""Who acts for ``advisor users``/``advisor tokens`` commands: whoever may run them on the
server is trusted with first set-up; the audit log records them as ``cli``."""


class StoreFailureCounter:
    """Failures kept in the store, so every gunicorn worker and instance shares one count.

    The counting back-end of :class:`FailureLimiter`: any object with these two methods
    will do (an in-process dict in tests, Redis once limits are shared that way).
    """

    def __init__(self, store: Store):
        self.store = store

    def count(self, key: str, since: datetime) -> int:
        """Failures recorded under *key* after *since*."""
        return self.store.count_auth_failures(key, since)

    def add(self, key: str, at: datetime, prune_before: datetime) -> None:
        """Record one failure under *key* at *at*; forget those before *prune_before*."""
        self.store.add_auth_failure(key, at, prune_before=prune_before)


class FailureLimiter:
    """Counts failed sign-ins and bad tokens per presented credential and per address.

    - Per credential (a token; a user name from one address): once over *limit* failures in
      *window_seconds*, that credential is refused with :class:`RateLimited`, even when it is
      right, or guessing one account's password would simply continue. A valid token is
      never blocked by other people's bad tokens, and nobody can lock an operator out from
      another address.
    - Per address: once over *limit*, further *failures* from it answer 429 instead of 401,
      but a valid credential from the same address still passes, so one office behind a
      NAT (or everyone behind a proxy that is not declared in ``[web] trusted_proxies``)
      cannot be locked out by one bad client.

    *counter* is where counts live (:class:`StoreFailureCounter`, or a :class:`Store`,
    which is wrapped in one).
    """

    def __init__(self, counter, limit: int, window_seconds: float, clock=utcnow):
        self.counter = StoreFailureCounter(counter) if isinstance(counter, Store) else counter
        self.limit = limit
        self.window = timedelta(seconds=window_seconds)
        self.clock = clock

    def check(self, kind: str, credential: str) -> None:
        """Raise :class:`RateLimited` if *credential* has used up its attempts of *kind*."""
        if self._over(_credential_key(kind, credential)):
            raise self._refusal("too many failed attempts with these credentials")

    def record(self, kind: str, credential: str, address: str) -> None:
        """Count one failure of *kind*; raise :class:`RateLimited` when the credential or the
        address is now over the limit (the caller raises its 401 otherwise)."""
        now = self.clock()
        keys = (_credential_key(kind, credential), _address_key(kind, address))
        for key in keys:
            self.counter.add(key, now, prune_before=now - self.window)
        if any(self._over(key, now, allowed=self.limit) for key in keys):
            raise self._refusal(f"too many failed attempts from {address}")

    def _over(self, key: str, now: datetime | None = None, allowed: int | None = None) -> bool:
        # check(): refused once *limit* failures are counted; record(): the failure that
        # goes beyond them is answered with 429 instead of 401.
        since = (now or self.clock()) - self.window
        allowed = self.limit - 1 if allowed is None else allowed
        return self.counter.count(key, since) > allowed

    def _refusal(self, message: str) -> RateLimited:
        seconds = int(self.window.total_seconds())
        return RateLimited(
            f"{message}; try again in {seconds // 60} minutes",
            extra={"retry_after_seconds": seconds},
        )


def _credential_key(kind: str, credential: str) -> str:
    # Hashed: the key column is short, and a mistyped password must not land in the table.
    digest = hashlib.sha256(credential.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return f"{kind}:c:{digest}"


def _address_key(kind: str, address: str) -> str:
    return f"{kind}:a:{address}"[:100]


def hash_token(secret: str) -> str:
    """SHA-256 hex of a token: fast, and safe because tokens carry 256 random bits."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()



class AccountUseCases:
    """Account, sign-in and API token use cases (a part of :class:`Operations`)."""

    store: Store

    # --- accounts ------------------------------------------------------------------------

    def create_user(
        self, username: str, password: str, role: str | Role, principal: Principal | None,
    ) -> User:
        """Create an account (admins, or :data:`COMMAND_LINE`)."""
        actor = _admin_or_console(principal)
        username = _username(username)
        _check_password(password)
        return self.store.add_user(
            username, self.passwords.hash(password), Role.parse(role), actor=actor.actor,
            address=actor.address,
        )

    def update_user(
        self, username: str, principal: Principal | None, *, role: str | Role | None = None,
        active: bool | None = None, password: str | None = None,
    ) -> User:
        """Change an account's role, disable/enable it or set a new password (admins)."""
        actor = _admin_or_console(principal)
        username = _existing_username(username)
        values: dict = {}
        if role is not None:
            values["role"] = Role.parse(role)
        if active is not None:
            values["active"] = bool(active)
        if password is not None:
            _check_password(password)
            values["password_hash"] = self.passwords.hash(password)
        return self.store.change_user(
            username, actor=actor.actor, address=actor.address,
            note="password changed" if password is not None else "", **values,
        )

    def list_users(self, principal: Principal | None) -> list[User]:
        """Every account (admins)."""
        _admin_or_console(principal)
        return self.store.list_users()

    def authenticate(self, username: str, password: str, address: str) -> Principal:
        """Check a sign-in; failures are counted per address and rate-limited."""
        name = str(username or "").strip()
        credential = f"{name.casefold()}@{address}"  # one account, from one address
        self.limiter.check("signin", credential)
        # A name no account can have is not looked up (nor sent to the database).
        user = self.store.find_user(name) if _USERNAME_RE.fullmatch(name) else None
        if not self._password_matches(user, password) or not user.active:
            self.limiter.record("signin", credential, address)
            raise AuthenticationFailed("wrong user name or password")
        if self.passwords.check_needs_rehash(user.password_hash):
            self.store.change_user(
                user.username, actor=user.username, address=address, note="rehash",
                password_hash=self.passwords.hash(password),
            )
        return Principal(user.username, user.role, address)

    def _password_matches(self, user: User | None, password) -> bool:
        # An unknown name is verified against a dummy hash, so it costs as much time as a
        # wrong password and timing does not reveal which names exist.
        if self._dummy_hash is None:
            self._dummy_hash = self.passwords.hash(secrets.token_hex(16))
        stored = user.password_hash if user else self._dummy_hash
        try:
            matched = self.passwords.verify(stored, str(password))
        except (VerifyMismatchError, InvalidHashError):
            return False
        return matched and user is not None

    # --- API tokens ----------------------------------------------------------------------

    def create_token(
        self, username: str, name: str, role: str | Role | None, principal: Principal | None,
    ) -> IssuedToken:
        """A new token for *username*, no stronger than the account; the secret is shown once."""
        actor = _admin_or_console(principal)
        user = self.store.find_user(_existing_username(username))
        if user is None:
            raise NotFound(f"no account named {username!r}", field="username", value=username)
        scope = user.role if role in (None, "") else Role.parse(role)
        if not user.role.allows(scope):
            raise PermissionDenied(
                f"a token cannot exceed its account: {username!r} is {user.role.value}",
                field="role", value=scope.value,
            )
        name = check_text(str(name or ""), "name").strip()
        if not 1 <= len(name) <= 100:
            raise InvalidQuery("a token needs a name of 1–100 characters", field="name")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = self.store.add_token(
            user, name, hash_token(secret), secret[:12], scope, actor=actor.actor,
            address=actor.address,
        )
        return IssuedToken(token, secret)

    def revoke_token(self, token_id: int, principal: Principal | None) -> Token:
        """Revoke a token; it stops working at once (every request looks it up)."""
        actor = _admin_or_console(principal)
        return self.store.revoke_token(int(token_id), actor=actor.actor, address=actor.address)

    def list_tokens(self, principal: Principal | None, username: str | None = None) -> list[Token]:
        """Every token's record (admins); secrets are never listed."""
        _admin_or_console(principal)
        return self.store.list_tokens(username)

    def authenticate_token(self, secret: str, address: str) -> Principal:
        """The principal an API token stands for; bad tokens are counted and rate-limited."""
        digest = hash_token(secret or "")
        self.limiter.check("token", digest)
        found = self.store.find_token_by_hash(digest)
        # Lookup is by hash (whose value leaks nothing about other tokens); the final
        # comparison is constant-time anyway.
        if found is None or not hmac.compare_digest(found[2], digest) or not _usable(found):
            self.limiter.record("token", digest, address)
            raise AuthenticationFailed("the API token is not valid (unknown or revoked)")
        token, user, _ = found
        now = utcnow()
        # Record use at most once a minute: a write per API call would queue behind flags.
        last = token.last_used_at
        if last is None or (now - last).total_seconds() > _TOKEN_TOUCH_SECONDS:
            self.store.touch_token(token.id, now)
        role = token.role if user.role.allows(token.role) else user.role
        return Principal(user.username, role, address, token.id)



def _admin_or_console(principal: Principal | None) -> Principal:
    """Admins only (the command line acts as :data:`COMMAND_LINE`, an admin)."""
    return require_role(principal, Role.ADMIN)


_USERNAME_RE = re.compile(r"[\w.@-]{1,100}")


def _username(value) -> str:
    """Letters (any script), digits and ``_ . @ -``, 1–100 of them: no markup, no control
    characters, nothing cut off silently."""
    name = str(value or "").strip()
    if not _USERNAME_RE.fullmatch(name):
        raise InvalidQuery(
            f"a user name is 1–100 letters, digits or _ . @ - (got {len(name)} characters"
            f"{', some of them not allowed' if len(name) <= 100 else ''})",
            field="username", value=ascii(name)[:60],
        )
    return name


def _existing_username(value) -> str:
    """*value* if an account could have it, else :class:`NotFound` without asking the
    database (PostgreSQL refuses a NUL with an error, not an empty answer)."""
    name = str(value or "")
    if not _USERNAME_RE.fullmatch(name):
        raise NotFound(f"no account named {ascii(name)[:60]}", field="username")
    return name


def _check_password(password) -> None:
    if not isinstance(password, str) or not 10 <= len(password) <= 1000:
        raise InvalidQuery("a password needs at least 10 characters", field="password")




def _usable(found) -> bool:
    token, user, _ = found
    return not token.revoked and user.active
