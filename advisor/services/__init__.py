"""Use cases the adapters call: ``advise(query)``, station search, the flag lifecycle, the
impact preview, accounts, tokens and console sessions.

This package wires the domain core (network, risk, routing) to storage and feeds, one module
per domain:

- :mod:`~advisor.services.query` — the one parser from raw input to a typed query;
- :mod:`~advisor.services.planning` — the network, the live risk snapshot, ``advise``;
- :mod:`~advisor.services.flag_sources` — where routing reads flags from;
- :mod:`~advisor.services.flags`, :mod:`~advisor.services.preview`,
  :mod:`~advisor.services.accounts` — the operations over the store, joined in
  :class:`~advisor.services.operations.Operations`;
- :mod:`~advisor.services.sessions` — the operator console's sessions;
- :mod:`~advisor.services.wiring` — opening the store and connecting it to routing.

Adapters (web, api, cli) import only what ``__all__`` names here; they never reach into the
core or the store directly.
"""

from advisor.services.accounts import (
    COMMAND_LINE,
    FailureLimiter,
    IssuedToken,
    Principal,
    hash_token,
    require_role,
)
from advisor.services.flag_sources import SNAPSHOT_FILE, FileFlagSource, FlagSource, RiskState
from advisor.services.flags import API_FLAG_FIELDS, ActiveFlags
from advisor.services.operations import Operations
from advisor.services.planning import Services
from advisor.services.preview import Impact, PairImpact, read_important_pairs
from advisor.services.query import (
    MAX_DAYS_FROM_TODAY,
    MAX_TEXT,
    QueryParser,
    parse_modes,
    parse_tolerance,
)
from advisor.services.sessions import ConsoleSessions
from advisor.services.wiring import connect_store, open_operations
from advisor.store import AuditEntry, Role, Token, User

__all__ = [
    "API_FLAG_FIELDS",
    "COMMAND_LINE",
    "MAX_DAYS_FROM_TODAY",
    "MAX_TEXT",
    "SNAPSHOT_FILE",
    "ActiveFlags",
    "AuditEntry",
    "ConsoleSessions",
    "FailureLimiter",
    "FileFlagSource",
    "FlagSource",
    "Impact",
    "IssuedToken",
    "Operations",
    "PairImpact",
    "Principal",
    "QueryParser",
    "RiskState",
    "Role",
    "Services",
    "Token",
    "User",
    "connect_store",
    "hash_token",
    "open_operations",
    "parse_modes",
    "parse_tolerance",
    "read_important_pairs",
    "require_role",
]
