"""Every enum value is spoken for, in both languages, and templates fail on a missing name."""

from __future__ import annotations

import jinja2
import pytest
from flask import render_template_string

from advisor.network.model import Mode
from advisor.risk.model import RiskLevel, Tolerance
from advisor.routing.explain import LEVEL_NAMES, TOLERANCE_NAMES, notice
from advisor.routing.model import NoticeCode, OptionKind, Verdict
from advisor.web.present import LABELS

ENUM_VALUES = [*OptionKind, *Verdict, *Mode, *RiskLevel, *(t.value for t in Tolerance)]


@pytest.mark.parametrize("value", ENUM_VALUES, ids=str)
def test_every_enum_value_has_a_page_label_in_both_languages(app, value):
    assert value in LABELS, f"no label for {value!r}"
    with app.test_request_context("/?lang=en"):
        english = str(LABELS[value])
    with app.test_request_context("/?lang=uk"):
        ukrainian = str(LABELS[value])
    assert english and ukrainian
    assert ukrainian != english, f"{value!r} is not translated into Ukrainian"


@pytest.mark.parametrize("code", list(NoticeCode), ids=str)
def test_every_notice_code_has_both_texts(code):
    details = {"tolerance": "balanced", "max_transfers": 2, "text": "X", "updated_at": "—",
               "origin": "a", "destination": "b"}  # fmt: skip
    made = notice(code, **details)
    assert made.message_uk and made.message_en and made.message_uk != made.message_en


def test_every_level_and_tolerance_has_sentence_words():
    assert set(LEVEL_NAMES) == set(RiskLevel)
    assert set(TOLERANCE_NAMES) == {t.value for t in Tolerance}


def test_templates_fail_on_an_undefined_name(app):
    with app.test_request_context("/"), pytest.raises(jinja2.UndefinedError):
        render_template_string("{{ no_such_value }}")
