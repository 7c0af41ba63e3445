"""The run page's summary tables: every borrower of a book gets its own table; a result of the
one-borrower layout (only `borrower`) still shows its figures."""

from __future__ import annotations

from margincall.web._summaries import summarise


def _borrower(name: str, p_default: float) -> dict:
    return {"name": name, "p_default": p_default, "p_default_se": 0.01, "p_forced_sale": 0.5, "p_forced_sale_se": 0.02,
            "p_cascade": 0.1, "p_cascade_se": 0.01, "liquidity_at_risk_95": 2.5e9}


def test_a_book_of_two_borrowers_shows_both():
    result = {"paths": 100, "seed": 1, "loans": {},
              "borrowers": {"hold": _borrower("HoldCo", 0.25), "fam": _borrower("", 0.5)}}
    tables = summarise("run", result)
    borrowers = tables[1:]
    assert [t.title for t in borrowers] == ["Borrower HoldCo", "Borrower fam"]
    assert borrowers[0].rows[0] == ["P(borrower default)", "25.00% ± 1.00%"]
    assert borrowers[1].rows[0] == ["P(borrower default)", "50.00% ± 1.00%"]
    assert borrowers[0].rows[3] == ["liquidity at risk 95%", "2.50 bn"]


def test_one_borrower_in_either_layout():
    one = _borrower("SBG", 0.036)
    for result in ({"loans": {}, "borrowers": {"borrower": one}, "borrower": one}, {"loans": {}, "borrower": one}):
        (table,) = summarise("run", result)[1:]
        assert table.title == "Borrower" and table.rows[0] == ["P(borrower default)", "3.60% ± 1.00%"]
    assert summarise("run", {"loans": {}})[1:] == []
