"""The examples in the war-geography modules' docstrings run."""

from __future__ import annotations

import doctest

import pytest

import advisor.network.war
import advisor.risk.geography


@pytest.mark.parametrize(
    "module", [advisor.risk.geography, advisor.network.war], ids=lambda m: m.__name__
)
def test_docstring_examples(module):
    result = doctest.testmod(module, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0
