"""The one place that reads configuration files and ``ADVISOR_*`` variables.

Defaults live in the repository's ``config/`` folder, the single source: a checkout (or an
editable install) reads it there, and ``setup.py`` copies it into the package as
``advisor/config/`` when a wheel is built, so an installed copy reads that. An override file
in the same format may be named by ``ADVISOR_CONFIG``; single values and secrets come from
``ADVISOR_*`` environment variables. Every value is coerced and checked here, once.

Where things are (this module is the one place that decides):

- config files named in the defaults file (speed model, lines, …): relative to the folder
  holding ``config/`` (the checkout, or the installed package);
- the instance folder and the raw network sources: relative to the *home* folder, the checkout
  when running from one, else the current directory. An installed copy therefore never writes
  into site-packages; ``ADVISOR_INSTANCE_PATH`` names another instance folder;
- paths in an ``ADVISOR_CONFIG`` file: relative to that file's folder; paths in ``ADVISOR_*``
  variables: relative to the current directory.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlparse

from advisor.errors import AdvisorError, ConfigError

__all__ = ["CONFIG_DIR", "PACKAGE_ROOT", "PartnerFeed", "Settings", "home_dir", "load_settings"]

PACKAGE_ROOT = Path(__file__).resolve().parent


def _checkout_root() -> Path | None:
    """The repository holding this package, when running from a checkout or editable install."""
    root = PACKAGE_ROOT.parent
    if (root / "pyproject.toml").is_file() and (root / "config" / "settings.toml").is_file():
        return root
    return None


CHECKOUT_ROOT = _checkout_root()
# The folder holding config/: the checkout, else the package (the copy setup.py ships).
CONFIG_ROOT = CHECKOUT_ROOT or PACKAGE_ROOT
CONFIG_DIR = CONFIG_ROOT / "config"
TOLERANCES = ("strict", "balanced", "accept-high")
# Settings read from the defaults file relative to the home folder, not to CONFIG_ROOT.
_HOME_RELATIVE = frozenset({"network_dataset", "network_sources"})


def home_dir() -> Path:
    """The checkout when running from one, else the current directory (an installed copy)."""
    return CHECKOUT_ROOT or Path.cwd()


PARTNER_FEED_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
TOKEN_ENV_RE = re.compile(r"ADVISOR_[A-Z0-9_]{1,80}")
HEADER_NAME_RE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,80}")  # an RFC 9110 token


@dataclass(frozen=True)
class PartnerFeed:
    """One partner GTFS-realtime Service Alerts feed (``[[alerts.partner_feeds]]``).

    ``name`` (lowercase letters, digits, ``-``/``_``, at most 40) names the feed in the
    flags' source, the store and the console; ``stop_mapping`` is an optional
    ``stop_id,station_id`` CSV (the feed's stop ids → this service's station ids; a stop id
    that is already one of our station ids needs no row); ``routes`` maps the feed's
    ``route_id`` s to line ids of ``config/lines.toml``.

    ``token_env`` names the ``ADVISOR_*`` environment variable holding the feed's key (the key
    itself is never in a config file); it is sent as ``Authorization: Bearer <key>``, or as
    the bare key under ``header`` when that names another header (``X-Api-Key``).
    ``token`` is the key read from that variable by :func:`load_settings`: never printed.
    """

    name: str
    url: str
    stop_mapping: Path | None = None
    routes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    token_env: str = ""
    header: str = "Authorization"
    token: str = field(default="", repr=False, compare=False)

    def auth_headers(self) -> dict[str, str]:
        """The header that carries the key (empty without a key)."""
        if not self.token:
            return {}
        if self.header.lower() == "authorization":
            return {"Authorization": f"Bearer {self.token}"}
        return {self.header: self.token}


@dataclass(frozen=True)
class Settings:
    """Typed, validated settings. Build with :func:`load_settings`."""

    instance_path: Path = field(default_factory=lambda: home_dir() / "instance")
    database_url: str = ""
    network_dataset: Path = PACKAGE_ROOT / "network" / "data" / "network.json.gz"
    network_sources: Path = field(
        default_factory=lambda: (home_dir().parent / "shared" / "data" / "ukraine").resolve()
    )
    speed_model_path: Path = CONFIG_DIR / "speed_model.toml"
    lines_path: Path = CONFIG_DIR / "lines.toml"
    hand_links_path: Path = CONFIG_DIR / "hand_links.toml"
    baseline_flags_path: Path = CONFIG_DIR / "baseline_flags.toml"
    war_geography_path: Path = PACKAGE_ROOT / "network" / "data" / "war_geography.json.gz"
    war_bands_path: Path = CONFIG_DIR / "war_geography.toml"
    important_pairs_path: Path = CONFIG_DIR / "important_pairs.toml"
    default_tolerance: str = "balanced"
    max_transfers: int = 4
    min_rail_transfer_minutes: int = 20
    bus_change_minutes: int = 90  # as config/settings.toml [routing]
    elevated_buffer_minutes: int = 30
    flags_stale_after_minutes: int = 60
    flags_refresh_seconds: float = 1.0
    default_locale: str = "uk"
    locales: tuple[str, ...] = ("uk", "en")
    rate_limit_per_minute: int = 120
    trusted_proxies: int = 0
    # Shared counters (rate limits, failed sign-ins) and flag-change messages across workers
    # and instances; empty: each process counts on its own (a warning says so).
    redis_url: str = field(default="", repr=False)
    session_minutes: int = 30
    signin_attempts_per_15_minutes: int = 5
    secret_key: str = field(default="", repr=False)
    testing: bool = False
    # [alerts]: air-raid alerts (alerts.in.ua API v1) and partner GTFS-realtime alert feeds.
    air_alerts_base_url: str = "https://api.alerts.in.ua"
    air_alerts_token: str = field(default="", repr=False)
    alerts_poll_seconds: float = 30.0
    alerts_timeout_seconds: float = 10.0
    alerts_max_backoff_seconds: float = 300.0
    alerts_unavailable_after_seconds: float = 120.0
    alerts_grace_minutes: float = 10.0
    alerts_horizon_hours: float = 3.0
    alerts_poll_in_app: bool = True
    alert_levels: dict = field(default_factory=dict)
    partner_alert_feeds: tuple[PartnerFeed, ...] = ()
    partner_poll_seconds: float = 60.0

    @property
    def air_alerts_enabled(self) -> bool:
        """True when an alerts.in.ua token is configured (the API refuses requests without)."""
        return bool(self.air_alerts_token)

    @property
    def effective_database_url(self) -> str:
        """The SQLAlchemy URL: the configured one, or SQLite in the instance folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.instance_path / 'advisor.sqlite3'}"

    def with_overrides(self, **values) -> Settings:
        """A copy with some values replaced, each checked like a loaded one."""
        known = {f.name for f in fields(self)}
        unknown = set(values) - known
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        return _validated(replace(self, **values))


# (section, key) in the TOML file -> (attribute, coercer)
def _path(value, base: Path | None = None) -> Path:
    """*value* as an absolute path; a relative one is taken from *base* (default: cwd)."""
    p = Path(str(value)).expanduser()
    return p if p.is_absolute() else ((base or Path.cwd()) / p).resolve()


def _positive_int(value) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("must not be negative")
    return number


def _redis_url(value) -> str:
    text = str(value).strip()
    if text and not text.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("must start with redis://, rediss:// or unix://")
    return text


def _bool(value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("must be true or false")


def _alert_levels(value) -> dict:
    if not isinstance(value, dict):
        raise ValueError("must be a table of alert_type = level")
    levels = {str(k): str(v).strip().lower() for k, v in value.items()}
    bad = {k: v for k, v in levels.items() if v not in _LEVEL_NAMES}
    if bad:
        raise ValueError(f"unknown level(s) {bad}; use {', '.join(_LEVEL_NAMES)}")
    return levels


_LEVEL_NAMES = ("advisory", "elevated", "high", "suspended")


def _partner_feeds(value, base: Path | None = None) -> tuple[PartnerFeed, ...]:
    """``[[alerts.partner_feeds]]`` tables → :class:`PartnerFeed` s (paths from *base*)."""
    if not isinstance(value, list):
        raise ValueError("must be a list of tables ([[alerts.partner_feeds]])")
    feeds = tuple(_partner_feed(number, entry, base)
                  for number, entry in enumerate(value, start=1))  # fmt: skip
    names = [feed.name for feed in feeds]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"partner feed name(s) used twice: {', '.join(twice)}")
    return feeds


def _partner_feed(number: int, entry, base: Path | None) -> PartnerFeed:
    where = f"partner feed {number}"
    if not isinstance(entry, dict):
        raise ValueError(f"{where} must be a table with name and url")
    unknown = sorted(set(entry) - {"name", "url", "stops", "routes", "token_env", "header"})
    if unknown:
        raise ValueError(f"{where} has unknown key(s) {', '.join(unknown)}; "
                         "use name, url, stops, routes, token_env, header")  # fmt: skip
    name = str(entry.get("name", "")).strip()
    if not PARTNER_FEED_NAME_RE.fullmatch(name):
        raise ValueError(f"{where}: name {name!r} must be 1-40 lowercase letters, digits, - or _")
    url = str(entry.get("url", "")).strip()
    if urlparse(url).scheme not in ("http", "https") or not urlparse(url).netloc:
        raise ValueError(f"partner feed {name!r}: url {url!r} must be an http(s) address")
    stops = entry.get("stops")
    mapping = _path(stops, base) if stops else None
    if mapping is not None and not mapping.is_file():
        raise ValueError(f"partner feed {name!r}: stop mapping {mapping} does not exist")
    routes = entry.get("routes", {})
    if not isinstance(routes, dict) or not all(isinstance(v, str) for v in routes.values()):
        raise ValueError(f"partner feed {name!r}: routes must be a table of route_id = line id")
    token_env, header = _partner_auth(name, entry)
    return PartnerFeed(name, url, mapping,
                       MappingProxyType({str(k): v.strip() for k, v in routes.items()}),
                       token_env, header)  # fmt: skip


def _partner_auth(name: str, entry: dict) -> tuple[str, str]:
    """``(token_env, header)`` of a feed table: the variable's name, never the key."""
    token_env = str(entry.get("token_env", "")).strip()
    header = str(entry.get("header", "")).strip()
    if token_env and not TOKEN_ENV_RE.fullmatch(token_env):
        raise ValueError(f"partner feed {name!r}: token_env {token_env!r} must name an "
                         "ADVISOR_* variable (capitals, digits, _)")  # fmt: skip
    if header and not token_env:
        raise ValueError(f"partner feed {name!r}: header {header!r} needs token_env")
    if header and not HEADER_NAME_RE.fullmatch(header):
        raise ValueError(f"partner feed {name!r}: header {header!r} is not a header name")
    return token_env, header or "Authorization"


def _partner_tokens(settings: Settings, environ) -> Settings:
    """Each feed with a ``token_env`` gets its key from *environ*; a missing or empty
    variable is a settings error naming the feed and the variable (not a 401 at run time)."""
    feeds = []
    for feed in settings.partner_alert_feeds:
        if feed.token_env and not feed.token:
            token = environ.get(feed.token_env, "").strip()
            if not token:
                raise ConfigError(f"partner feed {feed.name!r}: environment variable "
                                  f"{feed.token_env} (its token_env) is not set",
                                  field="partner_alert_feeds", value=feed.token_env)  # fmt: skip
            feed = replace(feed, token=token)
        feeds.append(feed)
    return replace(settings, partner_alert_feeds=tuple(feeds))


def _positive_float(value) -> float:
    number = float(value)
    if not number > 0:
        raise ValueError("must be positive")
    return number


def _locales(value) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    return tuple(str(v) for v in value)


_FILE_KEYS = {
    ("database", "url"): ("database_url", str),
    ("network", "dataset"): ("network_dataset", _path),
    ("network", "sources"): ("network_sources", _path),
    ("network", "speed_model"): ("speed_model_path", _path),
    ("network", "lines"): ("lines_path", _path),
    ("network", "hand_links"): ("hand_links_path", _path),
    ("network", "baseline_flags"): ("baseline_flags_path", _path),
    ("network", "war_geography"): ("war_geography_path", _path),
    ("network", "war_bands"): ("war_bands_path", _path),
    ("flags", "important_pairs"): ("important_pairs_path", _path),
    ("routing", "default_tolerance"): ("default_tolerance", str),
    ("routing", "max_transfers"): ("max_transfers", _positive_int),
    ("routing", "min_rail_transfer_minutes"): ("min_rail_transfer_minutes", _positive_int),
    ("routing", "bus_change_minutes"): ("bus_change_minutes", _positive_int),
    ("routing", "elevated_buffer_minutes"): ("elevated_buffer_minutes", _positive_int),
    ("flags", "stale_after_minutes"): ("flags_stale_after_minutes", _positive_int),
    ("flags", "refresh_seconds"): ("flags_refresh_seconds", float),
    ("web", "default_locale"): ("default_locale", str),
    ("web", "locales"): ("locales", _locales),
    ("web", "rate_limit_per_minute"): ("rate_limit_per_minute", _positive_int),
    ("web", "trusted_proxies"): ("trusted_proxies", _positive_int),
    ("web", "redis_url"): ("redis_url", _redis_url),
    ("security", "session_minutes"): ("session_minutes", _positive_int),
    ("alerts", "base_url"): ("air_alerts_base_url", str),
    ("alerts", "poll_seconds"): ("alerts_poll_seconds", _positive_float),
    ("alerts", "timeout_seconds"): ("alerts_timeout_seconds", _positive_float),
    ("alerts", "max_backoff_seconds"): ("alerts_max_backoff_seconds", _positive_float),
    ("alerts", "unavailable_after_seconds"): ("alerts_unavailable_after_seconds", _positive_float),
    ("alerts", "grace_minutes"): ("alerts_grace_minutes", float),
    ("alerts", "horizon_hours"): ("alerts_horizon_hours", _positive_float),
    ("alerts", "poll_in_app"): ("alerts_poll_in_app", _bool),
    ("alerts", "levels"): ("alert_levels", _alert_levels),
    ("alerts", "partner_feeds"): ("partner_alert_feeds", _partner_feeds),
    ("alerts", "partner_poll_seconds"): ("partner_poll_seconds", _positive_float),
    ("security", "signin_attempts_per_15_minutes"): (
        "signin_attempts_per_15_minutes",
        _positive_int,
    ),
}

# ADVISOR_<NAME> -> (attribute, coercer)
_ENV_KEYS = {
    "ADVISOR_DATABASE_URL": ("database_url", str),
    "ADVISOR_INSTANCE_PATH": ("instance_path", _path),
    "ADVISOR_NETWORK_DATASET": ("network_dataset", _path),
    "ADVISOR_NETWORK_SOURCES": ("network_sources", _path),
    "ADVISOR_SECRET_KEY": ("secret_key", str),
    "ADVISOR_DEFAULT_TOLERANCE": ("default_tolerance", str),
    "ADVISOR_FLAGS_STALE_AFTER_MINUTES": ("flags_stale_after_minutes", _positive_int),
    "ADVISOR_RATE_LIMIT_PER_MINUTE": ("rate_limit_per_minute", _positive_int),
    "ADVISOR_AIR_ALERTS_BASE_URL": ("air_alerts_base_url", str),
    "ADVISOR_AIR_ALERTS_TOKEN": ("air_alerts_token", str),
    "ADVISOR_AIR_ALERTS_POLL_SECONDS": ("alerts_poll_seconds", _positive_float),
    "ADVISOR_AIR_ALERTS_POLL_IN_APP": ("alerts_poll_in_app", _bool),
    "ADVISOR_TRUSTED_PROXIES": ("trusted_proxies", _positive_int),
    "ADVISOR_REDIS_URL": ("redis_url", _redis_url),
    "ADVISOR_FLAGS_REFRESH_SECONDS": ("flags_refresh_seconds", float),
}


def read_toml(path: Path, error: type[AdvisorError] = ConfigError) -> dict:
    """The TOML file at *path*; a missing or malformed file raises *error* naming it.

    The one TOML reader: settings raise :class:`ConfigError`, the dataset importer and the
    search aliases :class:`DataError`.
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as err:
        raise error(f"configuration file not found: {path}", value=str(path)) from err
    except tomllib.TOMLDecodeError as err:
        raise error(f"{path} is not valid TOML: {err}", value=str(path)) from err


def _apply(values: dict, source: str, attribute: str, coercer, raw) -> None:
    try:
        values[attribute] = coercer(raw)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{source}: {raw!r} is not valid ({err})", field=attribute) from err


def _apply_file(values: dict, path: Path, defaults: bool = False) -> None:
    """Apply the TOML file at *path*; *defaults* marks the committed ``config/settings.toml``."""
    data = read_toml(path)
    for (section, key), (attribute, coercer) in _FILE_KEYS.items():
        raw = data.get(section, {}).get(key)
        if raw is None or raw == "":
            continue
        if coercer in (_path, _partner_feeds):
            conv = functools.partial(coercer, base=_file_base(path, attribute, defaults))
        else:
            conv = coercer
        _apply(values, f"{path} [{section}] {key}", attribute, conv, raw)


def _file_base(path: Path, attribute: str, defaults: bool) -> Path:
    """The folder a relative path in the file at *path* is taken from (see module docs)."""
    if not defaults:
        return path.parent
    return home_dir() if attribute in _HOME_RELATIVE else CONFIG_ROOT


def _validated(settings: Settings) -> Settings:
    if settings.default_tolerance not in TOLERANCES:
        raise ConfigError(
            f"default tolerance {settings.default_tolerance!r} is not one of "
            f"{', '.join(TOLERANCES)}",
            field="default_tolerance",
        )
    if settings.bus_change_minutes < 1:
        raise ConfigError(
            "bus_change_minutes must be at least 1: a change of bus is never free",
            field="bus_change_minutes",
        )
    if settings.alerts_grace_minutes < 0:
        raise ConfigError("alerts grace_minutes must not be negative", field="alerts_grace_minutes")
    _check_partner_routes(settings)
    if settings.default_locale not in settings.locales:
        raise ConfigError(
            f"default locale {settings.default_locale!r} is not in {settings.locales}"
        )
    return settings


def _check_partner_routes(settings: Settings) -> None:
    """Every line a partner feed's routes name is a line of ``lines_path``."""
    named = {(feed.name, route, line) for feed in settings.partner_alert_feeds
             for route, line in feed.routes.items()}  # fmt: skip
    if not named:
        return
    known = {str(line.get("id", "")) for line in read_toml(settings.lines_path).get("line", [])}
    unknown = sorted(f"{route} -> {line!r} (feed {name})" for name, route, line in named
                     if line not in known)  # fmt: skip
    if unknown:
        raise ConfigError(
            f"partner feed routes name lines not in {settings.lines_path}: {'; '.join(unknown)}",
            field="partner_alert_feeds",
        )


def load_settings(overrides: dict | None = None, environ=None) -> Settings:
    """Read defaults, the ``ADVISOR_CONFIG`` file, ``ADVISOR_*`` variables and *overrides*.

    Later sources win. A missing secret key is replaced by a random one (sessions then do
    not survive a restart, which is the safe failure).
    """
    environ = os.environ if environ is None else environ
    values: dict = {}
    _apply_file(values, CONFIG_DIR / "settings.toml", defaults=True)
    if environ.get("ADVISOR_CONFIG"):
        _apply_file(values, _path(environ["ADVISOR_CONFIG"]))
    for name, (attribute, coercer) in _ENV_KEYS.items():
        if environ.get(name) not in (None, ""):
            _apply(values, name, attribute, coercer, environ[name])
    settings = Settings(**values)
    if overrides:
        settings = replace(settings, **overrides)
    if not settings.secret_key:
        settings = replace(settings, secret_key=secrets.token_hex(32))
    return _validated(_partner_tokens(settings, environ))
