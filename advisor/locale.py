"""The language of a request, for pages and API alike: ``?lang=``, else the browser's
Accept-Language, else the configured default (Ukrainian)."""

from __future__ import annotations

from flask import current_app, request
from flask_babel import Babel

from advisor.network.geo import KYIV_TZ

__all__ = ["current_locale", "init_babel"]


def _settings():
    return current_app.extensions["advisor.settings"]


def current_locale() -> str:
    """The locale of this request: ``?lang=``, else Accept-Language, else the default."""
    settings = _settings()
    asked = request.args.get("lang", "")
    if asked in settings.locales:
        return asked
    best = request.accept_languages.best_match(settings.locales)
    return best or settings.default_locale


def init_babel(app) -> None:
    """Attach Flask-Babel with the package's catalogues and our locale selector."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    app.config.setdefault("BABEL_DEFAULT_LOCALE", app.extensions["advisor.settings"].default_locale)
    Babel(app, locale_selector=current_locale, timezone_selector=lambda: KYIV_TZ.key)
