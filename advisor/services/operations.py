"""The operations over the store: flags, impact preview, accounts and tokens."""

from __future__ import annotations

from argon2 import PasswordHasher

from advisor.services.accounts import AccountUseCases, FailureLimiter
from advisor.services.flags import FlagUseCases
from advisor.services.preview import PreviewUseCases
from advisor.store import Store

__all__ = ["Operations"]


class Operations(FlagUseCases, PreviewUseCases, AccountUseCases):
    """Flag, account, token and audit use cases over a :class:`Store`.

    Every write that can change routing rebuilds the routing flag set at once (swap of one
    reference in :class:`Services`), so a publish or withdraw is visible to the next
    request of this process; other processes notice through the store's change stamp.
    """

    def __init__(self, store: Store, settings, services=None):
        self.store = store
        self.settings = settings
        self.services = services  # None for account/token commands that never route
        self.limiter = FailureLimiter(store, settings.signin_attempts_per_15_minutes, 15 * 60)
        self._important_pairs: tuple[tuple[str, str], ...] | None = None
        self.change_bus = None  # a FlagChangeBus (Redis) or PgFlagChangeBus (see wiring)
        self.partner_feeds = None  # PartnerFeeds (see wiring): partner alerts → drafts
        # argon2id with the library's (RFC 9106 low-memory) defaults; tests may swap in
        # cheaper parameters, which verify() reads back from each hash.
        self.passwords = PasswordHasher()
        self._dummy_hash: str | None = None

    def close(self) -> None:
        """Stop this process's background work on the store — alert pollers, the flag
        change listener — then close the store's connections (an app built and dropped by a
        test or a command; a server's workers simply exit)."""
        services = self.services
        pollers = [] if services is None else [services.alert_poller, *services.partner_pollers]
        for poller in pollers:
            if poller is not None:
                poller.stop(timeout=5.0)
        if self.change_bus is not None:
            self.change_bus.close()
        self.store.engine.dispose()

