"""Route-risk advisor: passenger advice over Ukraine's rail and intercity bus network.

:func:`create_app` is the composition root: the only place that imports every part.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def create_app(config: dict | None = None) -> Flask:
    """Build the Flask application.

    Parameters
    ----------
    config : dict, optional
        Setting overrides (attribute names of :class:`advisor.settings.Settings`), used by
        tests. Everything else comes from ``config/`` and ``ADVISOR_*`` variables.
    """
    # Imported here, not at the top: importing any advisor module imports this package first,
    # and the domain core (network, risk, routing) must load without Flask.
    from flask import Flask
    from jinja2 import StrictUndefined

    from advisor.settings import load_settings

    settings = load_settings(config)
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config.update(SECRET_KEY=settings.secret_key, TESTING=settings.testing)
    app.extensions["advisor.settings"] = settings
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    # Parts register themselves below (services, web, api) as they are built.
    from advisor.services import connect_store

    # The flag store (migrated under a lock, baseline flags seeded once) is routing's flag
    # source; the flag/account use cases act on it.
    services, operations = connect_store(settings)
    app.extensions["advisor.services"] = services
    app.extensions["advisor.operations"] = operations
    # One alert poller per deployment: every worker starts one, and the lease in the store
    # lets one of them poll at a time (or `advisor alerts poll` does, with poll_in_app off).
    if services.alert_poller is not None:
        services.alert_poller.start()
    for poller in services.partner_pollers:  # partner alert feeds, one lease per feed
        poller.start()
    # The adapters are siblings: each registers itself; what every response needs
    # (language, headers, errors, probes, logging, rate limits) is installed once here.
    from advisor import api, compression, serving, web
    from advisor.locale import init_babel
    from advisor.web import operator

    # A template naming a value the view did not pass fails loudly instead of printing
    # nothing (a label missing in one language would otherwise go unseen).
    app.jinja_env.undefined = StrictUndefined
    app.json.ensure_ascii = False  # Ukrainian names stay readable (and smaller) in JSON
    init_babel(app)
    api.register(app)
    web.register(app)
    operator.register(app)
    serving.init_serving(app, rate_limited=[api.bp, web.bp])
    compression.init_compression(app)
    if settings.trusted_proxies:
        # Only behind declared proxies is X-Forwarded-For the client's address: remote_addr
        # (rate limits, sign-in limits, the audit log) then comes from the header.
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=0, x_port=0)
    return app
