"""What each risk tolerance allows, and the one verdict rule every planner applies.

Both back-ends (the estimated graph search in :mod:`advisor.routing.engine` and the timetable
scan in :mod:`advisor.routing.timetable`) read their limits from here, and the answer builder
(:mod:`advisor.routing.answer`) judges every option with :func:`judge`, so the two can never
disagree about what is advised.

Examples
--------
>>> allowed_level(Tolerance.BALANCED).value, blocking_rank(Tolerance.STRICT)
('elevated', 2)
"""

from __future__ import annotations

from collections.abc import Mapping

from advisor.risk.model import RiskLevel, Tolerance
from advisor.routing.model import Verdict

__all__ = [
    "CALMER_LEVELS",
    "DETOUR_ALLOWANCE",
    "DETOUR_MIN_MINUTES",
    "FACTORS",
    "LEAST_RISKY",
    "OVERLAP_LIMIT",
    "allowed_level",
    "blocking_rank",
    "judge",
]

_ALLOWED = {
    Tolerance.STRICT: RiskLevel.ADVISORY,
    Tolerance.BALANCED: RiskLevel.ELEVATED,
    Tolerance.ACCEPT_HIGH: RiskLevel.HIGH,
}

# Penalty factor on a link's minutes per risk level; None hides the link. Multiplying the
# minutes (rather than adding a constant) keeps a chain of short flagged links exactly as
# costly as one long link over the same track, so splitting a section never changes a route.
_NO_FLAG = None
FACTORS: Mapping[str, Mapping[RiskLevel | None, float | None]] = {
    "strict": {
        _NO_FLAG: 1.0,
        RiskLevel.ADVISORY: 1.0,
        RiskLevel.ELEVATED: None,
        RiskLevel.HIGH: None,
        RiskLevel.SUSPENDED: None,
    },
    "balanced": {
        _NO_FLAG: 1.0,
        RiskLevel.ADVISORY: 1.0,
        # A detour up to half again as long is preferred to an elevated stretch.
        RiskLevel.ELEVATED: 1.5,
        RiskLevel.HIGH: None,
        RiskLevel.SUSPENDED: None,
    },
    "accept-high": {
        _NO_FLAG: 1.0,
        RiskLevel.ADVISORY: 1.0,
        RiskLevel.ELEVATED: 1.5,
        # Allowed on request, but a detour up to four times as long still wins.
        RiskLevel.HIGH: 4.0,
        RiskLevel.SUSPENDED: None,
    },
    "fastest": {
        _NO_FLAG: 1.0,
        RiskLevel.ADVISORY: 1.0,
        RiskLevel.ELEVATED: 1.0,
        RiskLevel.HIGH: 1.0,
        RiskLevel.SUSPENDED: None,  # no service: not a route at any risk
    },
}
LEAST_RISKY: Mapping[RiskLevel | None, float | None] = {
    # Used only when nothing fits the tolerance: buy a lot of time to lower the risk.
    _NO_FLAG: 1.0,
    RiskLevel.ADVISORY: 1.0,
    RiskLevel.ELEVATED: 10.0,
    RiskLevel.HIGH: 100.0,
    RiskLevel.SUSPENDED: None,
}

# Two options of the same verdict that share more than this share of their minutes (of the
# longer one) are one option: the later slot is listed in ``also_kinds`` of the earlier one.
OVERLAP_LIMIT = 0.8

# A timetabled journey avoiding a penalised level is preferred when it arrives no later than
# this after the best allowed one: a quarter of the best journey's time, and at least an hour
# (the estimated search expresses the same preference through FACTORS).
DETOUR_ALLOWANCE = 0.25
DETOUR_MIN_MINUTES = 60
# The levels a tolerance allows but would rather avoid, calmest first: balanced avoids
# elevated when it can; accept-high avoids elevated, then high.
CALMER_LEVELS: Mapping[Tolerance, tuple[RiskLevel, ...]] = {
    Tolerance.STRICT: (),
    Tolerance.BALANCED: (RiskLevel.ELEVATED,),
    Tolerance.ACCEPT_HIGH: (RiskLevel.ELEVATED, RiskLevel.HIGH),
}


def allowed_level(tolerance: Tolerance) -> RiskLevel:
    """The highest level an option may carry and still be advised under *tolerance*.

    >>> allowed_level(Tolerance.ACCEPT_HIGH).value
    'high'
    """
    return _ALLOWED[tolerance]


def blocking_rank(tolerance: Tolerance) -> int:
    """The lowest :attr:`RiskLevel.rank` a passenger with *tolerance* never uses: one above
    :func:`allowed_level`.

    >>> blocking_rank(Tolerance.BALANCED) == RiskLevel.HIGH.rank
    True
    """
    return allowed_level(tolerance).rank + 1


def judge(
    worst: RiskLevel | None,
    tolerance: Tolerance,
    *,
    recommended: bool = False,
    unknown: bool = False,
) -> Verdict:
    """The verdict on an option whose worst flag is *worst*, for a passenger's *tolerance*.

    ``high`` means the operator urges passengers not to travel that way, so an option
    crossing it is not advised even to a passenger who accepts high risk (SCENARIOS 1: "may
    see the direct rail option, marked not advised") — except the one option recommended to
    that passenger because nothing less risky exists within reason, which carries a caution.
    *unknown* risk (a hop the network cannot place) is never advised without a caution.

    >>> judge(RiskLevel.HIGH, Tolerance.ACCEPT_HIGH).value
    'not_advised'
    >>> judge(RiskLevel.HIGH, Tolerance.ACCEPT_HIGH, recommended=True).value
    'caution'
    >>> judge(RiskLevel.ELEVATED, Tolerance.BALANCED).value, judge(None, Tolerance.STRICT).value
    ('caution', 'advised')
    """
    if worst is not None and worst > allowed_level(tolerance):
        return Verdict.NOT_ADVISED
    if worst is not None and worst >= RiskLevel.HIGH and not recommended:
        return Verdict.NOT_ADVISED
    if worst is not None or unknown:
        return Verdict.CAUTION
    return Verdict.ADVISED
