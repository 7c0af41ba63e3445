"""margincall: risk engine for loans secured by concentrated stakes in public and private companies.

    import margincall
    scenario = margincall.load_scenario("softbank-openai")       # a built-in scenario, or a file
    result = margincall.simulate(scenario, paths=100_000, seed=1)
    result.loans["openai-margin-loan"].p_margin_call
"""

from margincall._version import __version__
from margincall.analysis.loading import default_scenario, load_scenario, parse_scenario
from margincall.analysis.results import BorrowerResult, LenderResult, LoanResult, SimulationResult, SystemResult
from margincall.analysis.simulate import simulate, trace
from margincall.errors import MarginCallError, ScenarioError, SimulationError
from margincall.model.book import Book
from margincall.model.scenario import Scenario

__all__ = [
    "BorrowerResult",
    "Book",
    "LenderResult",
    "LoanResult",
    "MarginCallError",
    "Scenario",
    "ScenarioError",
    "SimulationError",
    "SimulationResult",
    "SystemResult",
    "__version__",
    "default_scenario",
    "load_scenario",
    "parse_scenario",
    "simulate",
    "trace",
]
