"""Headless Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright) against the app
served by a real HTTP server in a thread, over the tiny network with one high-risk flag.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from advisor.services import FileFlagSource
from tests.web.conftest import LOZOVA_KRAMATORSK_HIGH, make_app, write_flags

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


# Module scope, not session: only one sync Playwright may run at a time, and the operator
# console's browser tests start their own.
@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Python Playwright is missing")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """Base URL of the app served on a free loopback port by a threaded WSGI server."""
    from tests.tiny_network import build_tiny_network

    tmp = tmp_path_factory.mktemp("browser")
    flags = write_flags(tmp / "flags.json", [LOZOVA_KRAMATORSK_HIGH])
    app = make_app(tmp, build_tiny_network(), FileFlagSource([flags]), rate_limit_per_minute=0)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def artifacts():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
