"""With an imported GTFS timetable the page shows scheduled clock times, not estimates."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from advisor.cli import main
from advisor.services import FileFlagSource
from tests.feeds.conftest import FIXTURES, national_network  # noqa: F401 - fixture
from tests.web.conftest import make_app

pytestmark = pytest.mark.slow


@pytest.fixture
def timetabled_app(tmp_path, monkeypatch, national_network):  # noqa: F811
    monkeypatch.setenv("ADVISOR_INSTANCE_PATH", str(tmp_path / "instance"))
    result = CliRunner().invoke(main, ["feeds", "import", str(FIXTURES / "ua-rail")])
    assert result.exit_code == 0, result.output
    return make_app(tmp_path, national_network, FileFlagSource([]))


def test_timetabled_leg_shows_clock_times_and_the_train(timetabled_app):
    client = timetabled_app.test_client()
    html = client.get("/?from=kyiv&to=kharkiv&date=2026-03-09&time=06:00&lang=uk").text
    first = re.search(r'<article class="option.*?</article>', html, re.S).group(0)
    assert "IC 711" in first
    leg_time = re.search(r'<span class="time">(.*?)</span>', first).group(1)
    assert leg_time.startswith("2026-03-09 06:00 →") and "оцінка" not in leg_time
    api = client.get("/api/v1/routes?from=kyiv&to=kharkiv&at=2026-03-09T06:00%2B02:00").json
    leg = api["options"][0]["legs"][0]
    assert leg["time"]["estimated"] is False and leg["time"]["source"] == "timetable"
    assert leg["time"]["departure"] == "2026-03-09T06:00:00+02:00"
    assert api["freshness"]["timetable_feeds"] == ["ua-rail"]
