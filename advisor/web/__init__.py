"""The passenger pages (HTML): the journey form and its results, layout shared with the console.

:func:`register` installs the blueprint, the page language (Flask-Babel) and what every
response needs in production (:mod:`advisor.serving`).
"""

from __future__ import annotations

from flask import Blueprint, request, url_for

__all__ = ["bp", "register"]

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)

LANGUAGES = (("uk", "Українська"), ("en", "English"))


def register(app) -> None:
    """Register the passenger pages on *app*."""
    from advisor.web import views  # noqa: F401  (attaches the views to bp)

    app.register_blueprint(bp)
    app.context_processor(_layout_context)


def _layout_context() -> dict:
    from advisor.locale import current_locale
    from advisor.web.views import choice_url

    return {
        "locale": current_locale(),
        "languages": LANGUAGES,
        "switch_url": switch_url,
        "choice_url": choice_url,
    }


def switch_url(code: str) -> str:
    """This page in language *code*, keeping every query parameter."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [code]
    endpoint = request.endpoint if request.url_rule else "web.index"
    return url_for(endpoint, **(request.view_args or {}), **args)
