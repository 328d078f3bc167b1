"""The page colours meet WCAG 2 AA contrast (4.5:1 for text), read from the shipped CSS."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import advisor

CSS = (Path(advisor.__file__).parent / "web" / "static" / "style.css").read_text(encoding="utf-8")
AA_TEXT = 4.5


def _luminance(hex_colour: str) -> float:
    digits = hex_colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _rule(selector: str) -> dict[str, str]:
    match = re.search(re.escape(selector) + r"\{([^}]*)\}", CSS)
    assert match, f"{selector} not found in style.css"
    return dict(part.split(":", 1) for part in match.group(1).split(";") if ":" in part)


def test_contrast_formula():
    assert round(contrast("#000", "#fff"), 1) == 21.0
    assert contrast("#777", "#fff") < AA_TEXT  # the check can fail


@pytest.mark.parametrize("level", ["none", "advisory", "elevated", "high", "suspended"])
def test_risk_badges(level):
    rule = _rule(f".risk-{level}")
    assert contrast(rule["color"], rule["background"]) >= AA_TEXT


@pytest.mark.parametrize(
    ("selector", "background"),
    [
        (".verdict-advised .verdict", "#fff"),
        (".verdict-caution .verdict", "#fff"),
        (".verdict-not_advised .verdict", "#fff6f6"),
        (".error", "#f4f6f8"),
        (".hint,.muted", "#f4f6f8"),
        ("a", "#fff"),
    ],
)
def test_text_colours(selector, background):
    assert contrast(_rule(selector)["color"], background) >= AA_TEXT


def test_button():
    rule = _rule("button")
    assert contrast(rule["color"], rule["background"]) >= AA_TEXT


def test_focus_ring_is_at_least_3_to_1_on_white_and_on_the_form_grey():
    ring = re.search(r"[^}]*:focus[^{]*\{outline:\d+px solid (#[0-9a-fA-F]{3,6})", CSS)
    assert ring, "no focus ring in style.css"
    for background in ("#fff", "#f4f6f8", "#eef7f0"):
        assert contrast(ring.group(1), background) >= 3.0, background
