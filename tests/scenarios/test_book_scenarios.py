"""Books of several borrowers and lenders: the shipped book scenarios (archegos-2021, pledge-spiral),
a two-borrower fire sale through one asset checked against the Cifuentes-Ferrucci-Shin equilibrium,
and a multi-lender close-out where the order of selling orders the losses.

Statistical checks run at fixed seeds and compare with tolerances of Z = 4 standard errors (the SEs the
engine reports). Where two estimates from the same run are compared, their SEs are combined as if
independent (sqrt(se1^2 + se2^2)): the paths are common, so the estimates are positively correlated
and the true SE of the difference is smaller; the check is conservative.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

import margincall
from margincall.engine.accounts import CURE_TOLERANCE
from margincall.analysis.loading import builtin_scenario_text, builtin_scenarios

ROOT = Path(__file__).parents[2]
Z = 4.0
BOOK_SCENARIOS = ("archegos-2021", "pledge-spiral")


def scenario_from(data: dict[str, Any]) -> margincall.Scenario:
    """A validated scenario from a plain dict, through the YAML path users take."""
    return margincall.parse_scenario(yaml.safe_dump(data, sort_keys=False))


def _sigma(*ses: float) -> float:
    return math.sqrt(sum(se * se for se in ses))


# -- shipping -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BOOK_SCENARIOS)
def test_book_scenario_is_built_in_and_matches_its_file(name: str) -> None:
    """Shipped as softbank-openai is: a package copy (run by name) identical to scenarios/NAME.yaml."""
    assert name in builtin_scenarios()
    assert builtin_scenario_text(name) == (ROOT / "scenarios" / f"{name}.yaml").read_text(encoding="utf-8")
    scenario = margincall.load_scenario(name)
    assert scenario.name == name and not scenario.shorthand


# -- archegos-2021: the order of selling orders the losses ----------------------------------------


@pytest.fixture(scope="module")
def archegos() -> tuple[margincall.Scenario, Any]:
    scenario = margincall.load_scenario("archegos-2021")
    return scenario, margincall.simulate(scenario, paths=8000, seed=2021)


def _loss_rate(result: Any, scenario: margincall.Scenario, lender_id: str) -> tuple[float, float]:
    """A lender's expected loss per unit lent, and its SE."""
    lent = sum(loan.principal for loan in scenario.loans.values() if loan.lender == lender_id)
    lender = result.lenders[lender_id]
    return lender.expected_loss / lent, lender.expected_loss_se / lent


@pytest.mark.slow
def test_archegos_block_sellers_lose_less_than_slow_lenders(archegos) -> None:
    """Morgan Stanley (the first block, day 1) loses less per dollar lent than the brokers selling in
    the market from day 1, and those less than the brokers that wait a day (Credit Suisse, Nomura,
    UBS, MUFG) - each gap beyond 4 SEs. MS, the prompt market sellers and the slow four have the same
    LTV, triggers and pools (pro rata slices of the same holdings): only when and how they sell differ."""
    scenario, result = archegos
    first_block = _loss_rate(result, scenario, "morgan-stanley")
    prompt = _loss_rate(result, scenario, "other-brokers")
    for slow_id in ("credit-suisse", "nomura", "ubs", "mufg"):
        slow = _loss_rate(result, scenario, slow_id)
        assert slow[0] - prompt[0] > Z * _sigma(slow[1], prompt[1]), (slow_id, slow, prompt)
    assert prompt[0] - first_block[0] > Z * _sigma(prompt[1], first_block[1]), (prompt, first_block)
    # and in money: each slow broker loses more than both block sellers
    block_losses = [result.lenders[n].expected_loss + Z * result.lenders[n].expected_loss_se for n in ("morgan-stanley", "goldman-sachs")]
    for slow_id in ("credit-suisse", "nomura", "ubs", "mufg"):
        slow = result.lenders[slow_id]
        assert slow.expected_loss - Z * slow.expected_loss_se > max(block_losses)


@pytest.mark.slow
def test_archegos_second_block_sells_into_the_first_blocks_impact(archegos) -> None:
    """Goldman's block follows Morgan Stanley's on the same day into the same eight stocks, so it
    gets a lower price: it loses more per dollar lent (beyond 4 SEs) though its pool is the same mix."""
    scenario, result = archegos
    ms = _loss_rate(result, scenario, "morgan-stanley")
    gs = _loss_rate(result, scenario, "goldman-sachs")
    assert gs[0] - ms[0] > Z * _sigma(gs[1], ms[1])


@pytest.mark.slow
def test_archegos_every_broker_closes_out_and_the_borrower_defaults(archegos) -> None:
    """Archegos cannot meet the calls (no cash), so every loan defaults on day 1 on every path; the
    recourse shortfalls it cannot pay default the borrower, except on the rare path where prices rise
    enough for every broker to be repaid in full."""
    _, result = archegos
    for loan_id, loan in result.loans.items():
        assert loan.p_default == 1.0, loan_id
    assert result.borrowers["archegos"].p_default > 0.99
    assert result.system.expected_forced_sales > 0.0


# -- pledge-spiral: defaults rise with the market's fall and cluster ------------------------------


def _pledge_spiral(fall: float) -> margincall.Scenario:
    data = yaml.safe_load(builtin_scenario_text("pledge-spiral"))
    for shock in data["shocks"]:
        shock["change"] = fall
    return scenario_from(data)


def _tail(distribution: dict[str, float], k: int) -> float:
    """P(k or more borrowers in default) from the system's distribution of the count."""
    return sum(p for n, p in distribution.items() if int(n) >= k)


@pytest.fixture(scope="module")
def spiral_runs() -> dict[float, Any]:
    return {fall: margincall.simulate(_pledge_spiral(fall), paths=4000, seed=2018) for fall in (-0.10, -0.29, -0.45)}


@pytest.mark.slow
@pytest.mark.parametrize("k", [1, 2, 3])
def test_pledge_spiral_defaults_rise_with_the_fall(spiral_runs, k: int) -> None:
    """P(k or more borrowers default) rises as the market-wide fall deepens (-10%, -29%, -45%), each
    step beyond 4 SEs (common random numbers: the same seed in each run)."""
    paths = 4000
    tails = [_tail(spiral_runs[fall].system.borrowers_in_default, k) for fall in (-0.10, -0.29, -0.45)]
    for shallow, deep in itertools.pairwise(tails):
        se = _sigma(math.sqrt(shallow * (1 - shallow) / paths), math.sqrt(deep * (1 - deep) / paths))
        assert deep - shallow > Z * se, tails


def _independent_tail(p: list[float], k: int) -> float:
    """P(N >= k) if borrowers defaulted independently with probabilities p (Poisson-binomial)."""
    counts = np.array([1.0])
    for q in p:
        counts = np.convolve(counts, [1.0 - q, q])
    return float(counts[k:].sum())


@pytest.fixture(scope="module")
def spiral_batches() -> list[Any]:
    """The shipped pledge-spiral in 8 independent batches (seeds 1-8) of 2,000 paths."""
    scenario = margincall.load_scenario("pledge-spiral")
    return [margincall.simulate(scenario, paths=2000, seed=seed) for seed in range(1, 9)]


@pytest.mark.slow
@pytest.mark.parametrize("k", [3, 4])
def test_pledge_spiral_defaults_cluster(spiral_batches, k: int) -> None:
    """On the shipped fall, several borrowers default together more often than if each defaulted
    independently with its own P(default): the excess of P(N >= k) over the Poisson-binomial value
    of the same run's per-borrower probabilities is positive beyond 4 SEs. The SE is that of the
    mean over 8 independent batches (seeds), which carries every correlation between the estimates."""
    excess = []
    for result in spiral_batches:
        observed = _tail(result.system.borrowers_in_default, k)
        excess.append(observed - _independent_tail([b.p_default for b in result.borrowers.values()], k))
    mean, se = float(np.mean(excess)), float(np.std(excess, ddof=1) / math.sqrt(len(excess)))
    assert mean > Z * se, (mean, se, excess)


# -- a two-borrower fire sale through one asset ---------------------------------------------------
#
# Cifuentes, Ferrucci and Shin (2005, "Liquidity risk and contagion", JEEA 3(2-3)): banks hold an
# illiquid asset whose price falls with the total quantity s sold as p = exp(-alpha s); a shock makes
# one bank breach its constraint, it sells, the lower price makes the other breach too, and the
# equilibrium is the fixed point where each bank sells just enough to meet its constraint at the
# price that all the sales produce, every unit trading at that clearing price.
# Here: two borrowers hold 100 units each of one asset (no volatility, price 1), pledge 50 to a loan
# with an LTV constraint (call 0.5001, cure 0.5) and repay by selling free units into the engine's
# exponential impact law (I = 1 - exp(-Y q / V): alpha = Y / V), whose permanent share is 1 (the
# price stays where the sales put it). A -30% shock on day 1 calls bank A (LTV 20 / 35 = 0.571);
# bank B (17.3 / 35 = 0.494) is called only by the price that A's sales make.

P_OPEN = 0.7  # the price after the day-1 shock
PLEDGED = 50.0
IMPACT_Y = 1.0
VOLUME = 100.0  # units a day (adv / day-0 price)
CURE = 0.5
DEBTS = {"bank-a": 20.0, "bank-b": 17.3}


def _fire_sale_book(cure_days: int) -> dict[str, Any]:
    loans = {
        f"loan-{b_id[-1]}": {"borrower": b_id, "lender": "lender", "principal": debt, "rate": 0.0, "term_days": 10,
                             "collateral": {"x": 0.5}, "margin_call_ltv": 0.5001, "cure_ltv": CURE,
                             "cure_days": cure_days, "liquidation_ltv": 0.95}
        for b_id, debt in DEBTS.items()
    }
    return {
        "name": "two-bank-fire-sale",
        "horizon_days": 2,
        "assets": {"x": {"kind": "public", "price": 1.0, "volatility": 0.0, "adv": VOLUME, "impact": IMPACT_Y,
                         "impact_law": "exponential", "impact_permanent": 1.0, "impact_floor": 1.0}},
        "shocks": [{"day": 1, "asset": "x", "change": P_OPEN - 1.0}],
        "borrowers": {b_id: {"cash": 0.0, "holdings": {"x": 100.0}, "response": ["sell"], "max_participation": 1.0}
                      for b_id in DEBTS},
        "lenders": {"lender": {}},
        "loans": loans,
    }


def cfs_equilibrium(*, proceeds_at_open: bool = False) -> float:
    """The clearing price p of the two-bank fire sale: each bank sells x_i so that its debt less the
    proceeds equals CURE x pledged units x p, and p = P_OPEN exp(-Y (x_A + x_B) / V). CFS: every unit
    trades at p. With proceeds_at_open, every unit trades at the price before any sale (an upper
    bound on what a sale can fetch): the two bracket any sequence of sales at prices in between."""
    p = P_OPEN
    for _ in range(10_000):
        sold = 0.0
        for debt in DEBTS.values():
            if debt > CURE * PLEDGED * p:
                sold += (debt - CURE * PLEDGED * p) / (P_OPEN if proceeds_at_open else p)
        new = P_OPEN * math.exp(-IMPACT_Y * sold / VOLUME)
        if abs(new - p) < 1e-15:
            break
        p = new
    return p


@pytest.fixture(scope="module")
def fire_sale() -> Any:
    # cure_days 5 > the 2-day horizon: no deadline falls inside it, so the fire sale (over within
    # day 1) is read alone; test_fire_sale_cure_by_selling_is_a_cure runs the same book with deadlines
    return margincall.simulate(scenario_from(_fire_sale_book(cure_days=5)), paths=1, seed=1)


def test_fire_sale_second_bank_is_called_only_by_the_first_banks_sales(fire_sale) -> None:
    assert DEBTS["bank-b"] / (PLEDGED * P_OPEN) < 0.5001 < DEBTS["bank-a"] / (PLEDGED * P_OPEN)
    assert fire_sale.loans["loan-b"].p_margin_call == 1.0
    assert fire_sale.borrowers["bank-b"].expected_sold_value > 0.0


def test_fire_sale_price_is_the_inverse_demand_of_all_sales(fire_sale) -> None:
    """Every holder is marked at P_OPEN exp(-Y X / V), X the units sold by both banks: each bank's
    equity at the horizon is its units left at that price less its debt, exactly, and each loan ends
    at its cure LTV at that price."""
    units = {b: fire_sale.borrowers[b].expected_sold_value / P_OPEN for b in DEBTS}  # nominal = units x open
    price = P_OPEN * math.exp(-IMPACT_Y * sum(units.values()) / VOLUME)
    for b_id, debt in DEBTS.items():
        r = fire_sale.borrowers[b_id]
        proceeds = r.expected_sold_value - r.expected_impact_cost
        debt_left = debt - proceeds
        assert r.expected_equity == pytest.approx((100.0 - units[b_id]) * price - debt_left, rel=1e-9)
        # cured to within the engine's stated cure tolerance (a share of the debt)
        assert debt_left / (PLEDGED * price) == pytest.approx(CURE, rel=2 * CURE_TOLERANCE * (1.0 + debt) / debt_left)


def test_fire_sale_price_against_the_cfs_equilibrium(fire_sale) -> None:
    """The engine's clearing price lies between CFS's (all units at the clearing price) and the bound
    with every unit at the open price; the bracket is narrow (under 1%)."""
    units = sum(fire_sale.borrowers[b].expected_sold_value for b in DEBTS) / P_OPEN
    price = P_OPEN * math.exp(-IMPACT_Y * units / VOLUME)
    low, high = cfs_equilibrium(), cfs_equilibrium(proceeds_at_open=True)
    assert high / low - 1.0 < 0.011
    assert low - 1e-12 <= price <= high + 1e-12, (low, price, high)
    assert low == pytest.approx(0.65040, abs=5e-5)  # by hand: the fixed point of p = 0.7 exp(-(37.3 / p - 50) / 100)


def test_fire_sale_cure_by_selling_is_a_cure() -> None:
    """A borrower that cures by selling units of the asset its own pool holds lowers that pool with
    its impact and sells in shrinking rounds; the response and the covenant test stop at the same
    point (`engine.accounts.cure_gap` negligible next to the debt), so the call is cured."""
    result = margincall.simulate(scenario_from(_fire_sale_book(cure_days=0)), paths=1, seed=1)
    assert result.loans["loan-a"].p_default == 0.0


# -- several lenders on one pool: the order of selling orders the losses ---------------------------


def _three_lenders(volatility: float) -> dict[str, Any]:
    """One borrower, one asset, three lenders with the same loan (the same third of the holding, the
    same debt and triggers); a -40% shock on day 1 puts each past its liquidation level. They differ
    only in how and when they sell: a block on day 1, market sales from day 1, market sales from day 4.
    Impact is permanent (2/3 of the day's peak stays, none of it decays), as in the fire-sale models;
    with no volatility the law is the exponential one (the square-root law scales with volatility)."""
    law: dict[str, Any] = {"impact_law": "exponential", "impact": 0.3, "adv": 300.0}  # a 100-unit block: -9.5%
    if volatility > 0.0:
        law = {"impact_law": "sqrt", "impact": 0.7, "adv": 30.0}  # each pool is 3.3 days of volume
    loan = {"borrower": "fund", "principal": 58.0, "rate": 0.0, "term_days": 100, "collateral": {"x": 1.0 / 3.0},
            "margin_call_ltv": 0.7, "cure_ltv": 0.65, "cure_days": 1, "liquidation_ltv": 0.95}
    return {
        "name": "three-lenders",
        "horizon_days": 60,
        "assets": {"x": {"kind": "public", "price": 1.0, "volatility": volatility, **law,
                         "impact_permanent": 2.0 / 3.0, "impact_floor": 1.0}},
        "shocks": [{"day": 1, "asset": "x", "change": -0.4}],
        "borrowers": {"fund": {"cash": 0.0, "holdings": {"x": 300.0}, "response": ["cash"]}},
        "lenders": {
            "fast-block": {"method": "block", "block_discount": 0.05, "wait_days": 0},
            "market-now": {"method": "market", "participation": 0.1, "wait_days": 0},
            "market-later": {"method": "market", "participation": 0.1, "wait_days": 3},
        },
        "loans": {f"loan-{n}": {**loan, "lender": n} for n in ("fast-block", "market-now", "market-later")},
    }


def test_lenders_selling_order_orders_losses_deterministic() -> None:
    """No volatility: the block lender sells its 100 units on day 1 at 0.6 x (1 - 0.05) before anyone
    else and loses exactly 58 - 57 = 1; the market seller from day 1 loses more, the one from day 4 most."""
    result = margincall.simulate(scenario_from(_three_lenders(0.0)), paths=1, seed=1)
    loss = {n: result.lenders[n].expected_loss for n in ("fast-block", "market-now", "market-later")}
    assert loss["fast-block"] == pytest.approx(58.0 - 100.0 * 0.6 * 0.95, rel=1e-9)
    assert loss["fast-block"] < loss["market-now"] < loss["market-later"], loss


@pytest.mark.slow
def test_lenders_selling_order_orders_losses_with_noise() -> None:
    """With 40% volatility the same order holds in expected loss, each gap beyond 4 SEs."""
    result = margincall.simulate(scenario_from(_three_lenders(0.4)), paths=4000, seed=5)
    fast, now, later = (result.lenders[n] for n in ("fast-block", "market-now", "market-later"))
    assert now.expected_loss - fast.expected_loss > Z * _sigma(now.expected_loss_se, fast.expected_loss_se)
    assert later.expected_loss - now.expected_loss > Z * _sigma(later.expected_loss_se, now.expected_loss_se)


# -- the questions work on a book ------------------------------------------------------------------


@pytest.mark.slow
def test_stress_on_a_book_names_each_borrower_in_its_currency(tmp_path: Path) -> None:
    """`margincall stress pledge-spiral`: a row per borrower ("borrower ID"), money in CNY, and
    stress.json with every borrower, lender and the system (it once failed on `result.borrower`)."""
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "margincall.cli.main", "stress", "pledge-spiral", "--stress", "S9", "--paths", "500",
         "--no-store", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "borrower a-controlling" in done.stdout and "CNY" in done.stdout and "USD" not in done.stdout
    data = json.loads((tmp_path / "stress.json").read_text(encoding="utf-8"))
    for entry in data.values():
        assert len(entry["borrowers"]) == 20 and len(entry["lenders"]) == 3 and "borrowers_in_default" in entry["system"]


@pytest.mark.slow
def test_archegos_report_orders_the_lenders_losses(tmp_path: Path) -> None:
    """The run report's lenders' loss chart lists the brokers by expected loss: the four that waited a
    day first, then the prompt market sellers, then the two block sellers (Morgan Stanley last)."""
    import json
    import re
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "margincall.cli.main", "run", "archegos-2021", "--paths", "4000", "--seed", "3",
         "--no-store", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    start = html.find('"fig-system-lenders",')  # the chart's data follow its div id in Plotly.newPlot
    assert start >= 0, "the report has no lenders' loss chart"
    names = json.loads("[" + re.search(r'"x":\[(.*?)\]', html[start:]).group(1) + "]")  # type: ignore[union-attr]
    assert set(names[:4]) == {"Credit Suisse", "Nomura", "UBS", "MUFG"}
    assert names[4:] == ["Deutsche Bank / Wells Fargo / Mizuho", "Goldman Sachs", "Morgan Stanley"]


def test_size_search_range_reads_a_books_holdings() -> None:
    """`margincall size` on a book: the default range of a principal is up to the call level times
    the pool's lending value, from the borrower's holding in units at the day-0 price."""
    from margincall.analysis.search import default_range

    scenario = margincall.load_scenario("pledge-spiral")
    low, high = default_range(scenario, "loans.a-controlling-pledge.principal")
    assert high == pytest.approx(0.7407 * 0.7 * 3.0e8 * 10.0, rel=1e-12) and low == pytest.approx(high / 100.0)


def test_sweep_on_a_book_keeps_every_borrower(tmp_path: Path) -> None:
    """`margincall sweep` on a book: each point keeps every borrower; sweep.csv has their columns."""
    from margincall.analysis.sweep import sweep, write_sweep

    scenario = margincall.load_scenario("pledge-spiral")
    rows = sweep(scenario, ["loans.a-controlling-pledge.principal=1.0e9,1.2e9"], paths=256, seed=1)
    assert [len(row.borrowers) for row in rows] == [20, 20]
    assert "borrower" not in rows[0].to_dict() and len(rows[0].to_dict()["borrowers"]) == 20
    csv_path, _ = write_sweep(rows, tmp_path)
    header = csv_path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert "a-controlling.p_default" in header and "d-holder-5.p_cascade" in header
