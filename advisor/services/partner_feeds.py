"""Partner alert feeds → draft flags an operator reviews: the sync and the review use cases.

:meth:`PartnerFeeds.sync` is what the poller (:class:`advisor.feeds.partner_alerts.
PartnerFeedPoller`) calls with a feed's proposals. Every flag change goes through the flag
use cases as the system principal ``partner-feed:<name>`` (role operator), so it is
versioned and audited like an operator's. Per proposal (feed, entity id, target):

- new → a DRAFT flag (never published by this code);
- unchanged (same fingerprint) → nothing, however often it is polled;
- changed → its still-draft flag is edited; if the flag was already published, a new draft
  is proposed beside it (``previous_flag_id``) and the published one stays until an operator
  decides;
- gone from the feed, or its active period ended → a draft is discarded (withdrawn: it
  never reached passengers); a published flag gets a *withdrawal proposal* that an operator
  confirms in the console. Nothing published is ever withdrawn by this code;
- selectors that match nothing on the network → an ``unmatched`` row the console lists.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from advisor.errors import AdvisorError, Conflict, FeedError, NotFound, StoreUnavailable
from advisor.risk.model import Flag, FlagStatus, utcnow
from advisor.services.accounts import Principal, require_role
from advisor.store import (
    AlertStore,
    EntityState,
    FeedStatus,
    PartnerEntity,
    PartnerFeedStore,
    Role,
)

__all__ = ["PartnerFeeds", "PartnerReview", "ReviewItem", "open_partner_feeds"]

log = logging.getLogger(__name__)

KEEP_CLOSED = timedelta(days=30)  # closed proposals are kept this long for the console
GONE_REASON = {
    "left": "the entity is no longer in the partner feed",
    "ended": "the entity's active period has ended",
}


@dataclass(frozen=True)
class ReviewItem:
    """One proposal with the flags it concerns (current versions; None when none)."""

    entity: PartnerEntity
    flag: Flag | None
    previous: Flag | None = None


@dataclass(frozen=True)
class PartnerReview:
    """What the console's review page lists."""

    feeds: tuple[tuple[object, FeedStatus], ...]  # (PartnerFeed, its health)
    drafts: tuple[ReviewItem, ...]
    withdrawals: tuple[ReviewItem, ...]
    unmatched: tuple[ReviewItem, ...]


class PartnerFeeds:
    """Sync and review of the partner feeds of one deployment.

    Parameters
    ----------
    operations : Operations
        The flag use cases (every flag write goes through them).
    store : PartnerFeedStore
        The proposal rows.
    health : AlertStore
        Feed health and poll leases (rows ``partner:<name>``).
    feeds : tuple of PartnerFeed
        The configured feeds.
    """

    def __init__(self, operations, store: PartnerFeedStore, health: AlertStore, feeds,
                 clock: Callable[[], datetime] = utcnow):  # fmt: skip
        self.operations = operations
        self.store = store
        self.health = health
        self.feeds = tuple(feeds)
        self.clock = clock

    # -- the sync (called by the poller) --

    def sync(self, feed: str, proposals, now: datetime) -> list[str]:
        """Bring *feed*'s drafts in line with *proposals* (see the module docstring); one
        problem line per proposal that could not be written (the rest are kept)."""
        run = _SyncRun(self.operations, feed, now, self.store.list_entities(feed))
        problems = run.apply(proposals)
        self.store.save_all(run.pending, prune=(feed, now - KEEP_CLOSED))
        return problems

    def _flag(self, flag_id: str | None) -> Flag | None:
        return self.operations.store.find_flag(flag_id) if flag_id else None

    # -- the review (the console) --

    def review(self, principal: Principal | None) -> PartnerReview:
        """Feeds with their health; drafts to review, withdrawals to confirm, unmatched."""
        require_role(principal, Role.VIEWER)
        from advisor.feeds.partner_alerts import lease_name

        feeds = tuple((feed, self.health.status(lease_name(feed.name))) for feed in self.feeds)
        rows = self.store.list_entities(states=(EntityState.OPEN, EntityState.UNMATCHED,
                                                EntityState.WITHDRAWAL_PROPOSED))  # fmt: skip
        items = [self._item(row) for row in rows]
        return PartnerReview(
            feeds,
            tuple(i for i in items if i.entity.state is EntityState.OPEN
                  and i.flag is not None and i.flag.status is FlagStatus.DRAFT),
            tuple(i for i in items if i.entity.state is EntityState.WITHDRAWAL_PROPOSED
                  and i.flag is not None and i.flag.status is FlagStatus.PUBLISHED),
            tuple(i for i in items if i.entity.state is EntityState.UNMATCHED),
        )  # fmt: skip

    def find_item(self, flag_id: str, principal: Principal | None) -> ReviewItem:
        """The proposal that drafted flag *flag_id*; raises :class:`NotFound`."""
        require_role(principal, Role.VIEWER)
        row = self.store.find_by_flag(flag_id)
        if row is None:
            raise NotFound(f"no partner-feed proposal for flag {flag_id!r}", field="id",
                           value=flag_id)  # fmt: skip
        return self._item(row)

    def keep_flag(self, flag_id: str, principal: Principal | None) -> PartnerEntity:
        """Close the withdrawal proposal of flag *flag_id*: the operator keeps it published."""
        principal = require_role(principal, Role.OPERATOR)
        row = self.find_item(flag_id, principal).entity
        if row.state is not EntityState.WITHDRAWAL_PROPOSED:
            raise Conflict(f"flag {flag_id!r} has no withdrawal proposal", field="id",
                           value=flag_id)  # fmt: skip
        now = self.clock()
        data = {**row.data, "kept_by": principal.actor, "kept_at": now.isoformat()}
        kept = replace(row, state=EntityState.CLOSED, updated_at=now, data=data)
        self.store.save(kept, audit=(principal.actor, "partner.keep",
                                     "withdrawal proposal declined: the flag stays published"))
        return kept

    def _item(self, row: PartnerEntity) -> ReviewItem:
        return ReviewItem(row, self._flag(row.flag_id), self._flag(row.previous_flag_id))

    # -- pollers --

    def pollers(self, settings, network) -> list:
        """One leased poller per configured feed, over *network*'s stations and lines."""
        from advisor.feeds.partner_alerts import (
            EntityMatcher,
            PartnerFeedClient,
            PartnerFeedPoller,
        )
        from advisor.network.gtfs import read_stop_mapping

        made = []
        for feed in self.feeds:
            try:
                stops = read_stop_mapping(feed.stop_mapping) if feed.stop_mapping else {}
            except FeedError as err:
                raise FeedError(f"partner feed {feed.name}: {err.message}",
                                value=str(feed.stop_mapping)) from err  # fmt: skip
            client = PartnerFeedClient(feed.name, feed.url,
                                       timeout_seconds=settings.alerts_timeout_seconds,
                                       auth_headers=feed.auth_headers(),
                                       token_env=feed.token_env)  # fmt: skip
            made.append(PartnerFeedPoller(
                client, EntityMatcher(network, stops, feed.routes), self.health, self.sync,
                poll_seconds=settings.partner_poll_seconds,
                max_backoff_seconds=settings.alerts_max_backoff_seconds, clock=self.clock,
            ))  # fmt: skip
        return made


class _SyncRun:
    """One sync of one feed: its rows, the flags they name (read in one query, each
    handed out once; a flag the run may have written since is read again) and the rows to
    write. Rows are written together at the end, in one transaction: a poll stopped before
    that finds its drafts again by their ids (see :func:`_flag_id`)."""

    def __init__(self, operations, feed: str, now: datetime, rows):
        self.operations = operations
        self.feed = feed
        self.now = now
        self.rows = {row.key: row for row in rows}
        ids = {i for row in rows for i in (row.flag_id, row.previous_flag_id) if i}
        self.known = operations.store.find_flags(ids) if ids else {}
        self.principal = Principal(f"partner-feed:{feed}", Role.OPERATOR, "local")
        self.pending: list[PartnerEntity] = []

    def apply(self, proposals) -> list[str]:
        """Handle every proposal and every row whose entity is gone; the problems."""
        problems, seen = [], set()
        ended = {(p.entity_id, p.part) for p in proposals if not p.live}
        for proposal in proposals:
            key = (proposal.entity_id, proposal.part)
            if proposal.live:
                seen.add(key)
                problems += _guarded(key, lambda p=proposal, k=key: self._present(
                    self.rows.get(k), p))  # fmt: skip
        for key, row in self.rows.items():
            if key not in seen and row.state is not EntityState.CLOSED:
                why = "ended" if key in ended else "left"
                problems += _guarded(key, lambda r=row, w=why: self._gone(r, w))
        return problems

    def _find(self, flag_id: str | None) -> Flag | None:
        if not flag_id:
            return None
        known = self.known.pop(flag_id, None)
        return known if known is not None else self.operations.store.find_flag(flag_id)

    def _present(self, row: PartnerEntity | None, proposal) -> None:
        if proposal.target is None:
            self._save(row, proposal, state=EntityState.UNMATCHED, flag_id=None)
            return
        flag = self._find(row.flag_id) if row is not None else None
        if row is None or flag is None:
            self._propose(row, proposal, previous=None)
        elif row.fingerprint != proposal.fingerprint:
            self._changed(row, flag, proposal)
        elif row.state is EntityState.OPEN or flag.status is not FlagStatus.WITHDRAWN:
            # Unchanged; an entity back after leaving reopens (its withdrawal proposal goes).
            self._save(row, proposal, state=EntityState.OPEN)
        else:  # back after leaving, and its flag was withdrawn meanwhile: propose again
            self._propose(row, proposal, previous=None)

    def _changed(self, row: PartnerEntity, flag: Flag, proposal) -> None:
        if flag.status is FlagStatus.DRAFT:
            self.operations.update_flag(flag.id, _fields(proposal), flag.version,
                                        self.principal, replace_all=True)  # fmt: skip
            self._save(row, proposal, state=EntityState.OPEN)
        elif flag.status is FlagStatus.PUBLISHED:
            self._propose(row, proposal, previous=flag.id)
        else:
            self._propose(row, proposal, previous=None)

    def _propose(self, row, proposal, previous: str | None) -> None:
        """A new draft for *proposal* (the next generation of its key)."""
        generation = (row.generation if row is not None else 0) + 1
        flag_id = _flag_id(self.feed, proposal.entity_id, proposal.part, generation)
        data = {**_fields(proposal), "id": flag_id, "status": FlagStatus.DRAFT.value}
        try:
            self.operations.create_flag(data, self.principal)
        except Conflict:
            # Written by a poll that stopped before saving its row: adopt that draft.
            if self.operations.store.find_flag(flag_id) is None:
                raise
        self._save(row, proposal, state=EntityState.OPEN, flag_id=flag_id,
                   previous_flag_id=previous, generation=generation)  # fmt: skip

    def _gone(self, row: PartnerEntity, why: str) -> None:
        flag = self._find(row.flag_id)
        data = {**row.data, "gone": why, "gone_at": self.now.isoformat()}
        if flag is not None and flag.status is FlagStatus.DRAFT:
            self.operations.withdraw_flag(flag.id, flag.version, self.principal,
                                          reason=f"discarded: {GONE_REASON[why]}")  # fmt: skip
            previous = self._find(row.previous_flag_id)
            if previous is not None and previous.status is FlagStatus.PUBLISHED:
                flag, row = previous, replace(row, flag_id=previous.id, previous_flag_id=None)
        if flag is not None and flag.status is FlagStatus.PUBLISHED:
            state = EntityState.WITHDRAWAL_PROPOSED
        else:
            state = EntityState.CLOSED
        if state is not row.state or data.get("gone") != row.data.get("gone"):
            self.pending.append(replace(row, state=state, updated_at=self.now, data=data))

    def _save(self, row, proposal, *, state: EntityState, **changes) -> None:
        now = self.now
        base = row or PartnerEntity(
            self.feed, proposal.entity_id, proposal.part, None, None, "", state, 0, now, now, now
        )
        new = replace(base, fingerprint=proposal.fingerprint, state=state, last_seen_at=now,
                      data=dict(proposal.summary), **changes)  # fmt: skip
        if new != replace(base, last_seen_at=now) or row is None:
            new = replace(new, updated_at=now)
        self.pending.append(new)


def _guarded(key, write) -> list[str]:
    """Run *write*; a refused flag is a problem of that proposal, a store failure ends the
    poll (the poller records it)."""
    try:
        write()
    except StoreUnavailable:
        raise
    except AdvisorError as err:
        log.warning("partner proposal %s/%s not written: %s", *key, err.message)
        return [f"entity {key[0]} ({key[1]}): {err.message}"]
    return []


def _fields(proposal) -> dict:
    return {k: v for k, v in proposal.flag.items() if v is not None}


def _flag_id(feed: str, entity_id: str, part: str, generation: int) -> str:
    """``pf-<feed>-<digest>``: the same key and generation always give the same id, so a
    poll that stopped half-way finds its draft again instead of drafting twice."""
    digest = hashlib.sha256(f"{feed}\x00{entity_id}\x00{part}\x00{generation}".encode())
    return f"pf-{feed[:40]}-{digest.hexdigest()[:16]}"


def open_partner_feeds(settings, operations) -> PartnerFeeds:
    """The partner-feed use cases over *operations*' store."""
    engine = operations.store.engine
    return PartnerFeeds(operations, PartnerFeedStore(engine), AlertStore(engine),
                        settings.partner_alert_feeds)  # fmt: skip
