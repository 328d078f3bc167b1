"""Use cases the adapters call: advise(), search_stations(), preview_impact(), publish_flag() …

This module wires the domain core (network, risk, routing) to storage and feeds. Adapters
(web, api, cli) call only what is named in ``__all__`` here; they never reach into the core
or the store directly.

Readers never see a half-built state: the network is loaded once; the flag set is read into
an immutable :class:`RiskState` and swapped by one reference assignment, so every request
reads one consistent snapshot.
"""

from __future__ import annotations

import logging

__all__: list[str] = []

log = logging.getLogger(__name__)
