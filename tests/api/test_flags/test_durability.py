"""SIGKILL the real server (gunicorn, 2 workers) mid-writes: every acknowledged write survives."""

from __future__ import annotations

import pytest

from tests.store import durability


@pytest.mark.slow
def test_acknowledged_writes_survive_sigkill(tmp_path, tiny_dataset):
    if not durability.ADVISOR.with_name("gunicorn").exists():
        pytest.skip("the advisor/gunicorn console scripts are not installed in this venv")
    result = durability.run(tmp_path, tiny_dataset, writers=3, kill_after_seconds=1.5)
    print(f"durability: {result.acknowledged} writes acknowledged, {result.found} found")
    assert result.acknowledged > 10, "too few writes before the kill to mean anything"
    assert not result.refused, result.refused[:5]
    assert result.missing == []
    assert result.inconsistent == []
    assert result.found == result.acknowledged
    assert result.flags_checked >= result.acknowledged // 4
