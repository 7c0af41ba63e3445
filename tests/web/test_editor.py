"""The scenario editor's form: every bad value is reported at its field at once, whether it is
not a number or a number the scenario refuses."""

from __future__ import annotations

from service_support import SCENARIO_TEXT

from margincall.web._editor import apply


def test_every_bad_value_is_shown_at_its_field():
    changes = {"assets.acme.volatility": "abc", "loans.acme-loan.cure_ltv": "0.7", "loans.acme-loan.cure_days": "2.5",
               "assets.nope.volatility": "0.2", "assets.co.volatility": "35%"}
    text, errors, general = apply(SCENARIO_TEXT, changes)
    assert text is None and general == []
    assert errors["assets.acme.volatility"] == "'abc' is not a number"
    assert "below margin_call_ltv" in errors["loans.acme-loan.cure_ltv"]
    assert errors["loans.acme-loan.cure_days"] == "2.5 is not a whole number of days"
    assert errors["assets.nope.volatility"] == "not a field of this scenario"
    assert "assets.co.volatility" not in errors  # a good value among bad ones


def test_good_values_give_the_edited_text():
    text, errors, general = apply(SCENARIO_TEXT, {"assets.co.volatility": "35%", "loans.acme-loan.cure_days": "3"}, name="edited")
    assert errors == {} and general == [] and text is not None
    assert "volatility: 0.35" in text and "cure_days: 3" in text and text.startswith("name: edited")
