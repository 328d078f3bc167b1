"""Partner-feed review in the console: the drafts partner GTFS-realtime alerts proposed,
the withdrawals they propose, what matched nothing, and each feed's health.

Publishing and withdrawing use the flag use cases as the flag pages do (CSRF on every form,
operator role, the version shown): a draft is published only at the version whose impact
preview the operator saw; a withdrawal is confirmed on the usual withdraw page, with a
reason for the audit log.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request
from flask_babel import gettext

from advisor.errors import Conflict
from advisor.locale import current_locale
from advisor.risk.model import FlagStatus
from advisor.risk.parse import flag_to_dict
from advisor.services import API_FLAG_FIELDS, Role, require_role
from advisor.web.operator import bp
from advisor.web.operator.auth import console_url, operations, requires, services
from advisor.web.operator.forms import posted_version
from advisor.web.operator.preview import ImpactView
from advisor.web.operator.words import page_words

__all__ = ["partner_feeds", "partner_keep", "partner_publish", "partner_review"]


def _partner():
    return operations().partner_feeds


@bp.get("/partner-feeds")
@requires(Role.VIEWER)
def partner_feeds(principal):
    """Drafts to review, withdrawals to confirm, unmatched entities, and feed health."""
    review = _partner().review(principal)
    return render_template("operator/partner_feeds.html", review=review)


@bp.get("/partner-feeds/<flag_id>")
@requires(Role.VIEWER)
def partner_review(flag_id, principal):
    """One proposal: the entity, what it matched, the flag and its impact preview."""
    return _review_page(flag_id, principal)


@bp.post("/partner-feeds/<flag_id>/publish")
@requires(Role.VIEWER)
def partner_publish(flag_id, principal):
    """Publish the draft at the version whose preview was shown."""
    require_role(principal, Role.OPERATOR)
    try:
        flag = operations().publish_flag(flag_id, posted_version(request.form), principal)
    except Conflict as err:
        return _review_page(flag_id, principal, error=gettext("Not published: %(why)s",
                                                              why=err.message))
    flash(gettext("Flag %(id)s published (version %(v)d).", id=page_words().title(flag),
                  v=flag.version))  # fmt: skip
    return redirect(console_url("operator.partner_feeds"))


@bp.post("/partner-feeds/<flag_id>/keep")
@requires(Role.VIEWER)
def partner_keep(flag_id, principal):
    """Keep a published flag whose entity left the feed (the proposal is closed)."""
    require_role(principal, Role.OPERATOR)
    try:
        _partner().keep_flag(flag_id, principal)
    except Conflict as err:
        return _review_page(flag_id, principal, error=err.message)
    flash(gettext("The flag stays published; the withdrawal proposal is closed."))
    return redirect(console_url("operator.partner_feeds"))


def _review_page(flag_id, principal, error: str = ""):
    item = _partner().find_item(flag_id, principal)
    flag = item.flag if item.flag is not None and item.flag.id == flag_id else item.previous
    impact = None
    if flag is not None and flag.status is not FlagStatus.WITHDRAWN:
        data = {k: v for k, v in flag_to_dict(flag).items() if k in API_FLAG_FIELDS}
        impact = ImpactView(operations().preview_impact(data, principal), services().network,
                            current_locale(), services().risk_state.war_layer)  # fmt: skip
    page = render_template("operator/partner_review.html", item=item, flag=flag,
                           impact=impact, error=error)  # fmt: skip
    return page, 409 if error else 200
