"""Administrator pages: accounts (create, change role, disable) and API tokens (create,
revoke). A new token's secret is shown once, on the response to the form that made it."""

from __future__ import annotations

from flask import flash, redirect, render_template, request
from flask_babel import gettext

from advisor.errors import AdvisorError, Conflict, NotFound
from advisor.services import Role
from advisor.web.operator import bp
from advisor.web.operator.auth import console_url, operations, requires
from advisor.web.operator.words import LABELS

__all__ = ["account_message", "accounts", "tokens"]

ROLES = tuple(role.value for role in Role)


def account_message(err: AdvisorError) -> str:
    """An account or token error in the page language (the use cases speak English)."""
    if err.extra.get("reason") == "last-admin":
        return gettext(
            "This is the last active administrator; make another account administrator first."
        )
    messages = {
        "username": gettext("A user name is 1–100 letters, digits or _ . @ - (no spaces)."),
        "password": gettext("A password needs at least 10 characters."),
        "name": gettext("A token needs a name of 1–100 characters of plain text."),
        "role": gettext("Choose a role no higher than the account's own."),
    }
    if isinstance(err, Conflict) and err.field == "username":
        return gettext("An account with this name already exists.")
    if isinstance(err, NotFound) and err.field == "username":
        return gettext("There is no such account.")
    return messages.get(err.field or "", err.message)


@bp.route("/accounts", methods=["GET", "POST"])
@requires(Role.ADMIN)
def accounts(principal):
    """Every account; create one (user name, password, role)."""
    typed = {k: request.form.get(k, "")[:1000].strip() for k in ("username", "role")}
    error, status = "", 200
    if request.method == "POST":
        try:
            user = operations().create_user(
                typed["username"], request.form.get("password", ""), typed["role"], principal
            )
        except AdvisorError as err:
            error, status = account_message(err), 400
        else:
            flash(gettext("Account %(name)s created.", name=user.username))
            return redirect(console_url("operator.accounts"))
    users = operations().list_users(principal)
    page = render_template(
        "operator/accounts.html",
        users=users,
        typed=typed,
        error=error,
        roles=ROLES,
        labels=LABELS,
    )
    return page, status


@bp.post("/accounts/<username>")
@requires(Role.ADMIN)
def change_account(username, principal):
    """Change an account's role or enable/disable it."""
    role = request.form.get("role") or None
    active = {"1": True, "0": False}.get(request.form.get("active", ""))
    try:
        operations().update_user(username, principal, role=role, active=active)
    except AdvisorError as err:
        flash(gettext("Not changed: %(why)s", why=account_message(err)), "error")
    else:
        flash(gettext("Account %(name)s changed.", name=username))
    return redirect(console_url("operator.accounts"))


@bp.route("/tokens", methods=["GET", "POST"])
@requires(Role.ADMIN)
def tokens(principal):
    """Every API token (never its secret); create one, shown once."""
    typed = {k: request.form.get(k, "")[:1000].strip() for k in ("username", "name", "role")}
    error, issued, status = "", None, 200
    if request.method == "POST":
        try:
            issued = operations().create_token(
                typed["username"], typed["name"], typed["role"] or None, principal
            )
        except AdvisorError as err:
            error, status = account_message(err), err.status
    page = render_template(
        "operator/tokens.html",
        tokens=operations().list_tokens(principal),
        typed=typed,
        error=error,
        issued=issued,
        roles=ROLES,
        labels=LABELS,
        usernames=[u.username for u in operations().list_users(principal)],
    )
    return page, status


@bp.post("/tokens/<int:token_id>/revoke")
@requires(Role.ADMIN)
def revoke(token_id, principal):
    """Revoke a token; it stops working at once."""
    try:
        token = operations().revoke_token(token_id, principal)
    except AdvisorError as err:
        flash(gettext("Not revoked: %(why)s", why=err.message), "error")
    else:
        flash(gettext("Token %(name)s revoked.", name=token.name))
    return redirect(console_url("operator.tokens"))
