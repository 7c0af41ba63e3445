"""Named columns of the market's arrays: asset parameters (built once by `engine.lower`) and the
market state of one path. `engine.layout` re-exports them with the columns of the other arrays.

Axes: assets [A] in the scenario's order; a unit is one share (the one-borrower shorthand's unit
is the borrower's whole day-0 holding); time in trading days.
"""

from __future__ import annotations

# asset_p[a, column], float
AP_LOGP0 = 0  # log of the price of one unit on day 0
AP_DRIFT_DT = 1  # (mu - sigma^2 / 2) dt
AP_VOL_SQRT_DT = 2  # sigma sqrt(dt)
AP_SIGMA_DAILY = 3  # daily volatility for the impact law
AP_JUMP_MEAN_PER_DAY = 4  # jump rate * dt
AP_JUMP_P0 = 5  # exp(-jump rate * dt)
AP_JUMP_LOG_MEAN = 6
AP_JUMP_LOG_STDEV = 7
AP_VOLUME = 8  # daily traded units once public (adv / day-0 price)
AP_IMPACT_Y = 9
AP_IMPACT_EXPONENT = 10
AP_IMPACT_PERMANENT = 11  # share of a day's impact left at its end
AP_IMPACT_FLOOR = 12  # share of the end-of-day impact that never decays
AP_IMPACT_DECAY = 13  # daily factor of the decaying part of the impact (1: none)
AP_MARK_PROB = 14  # probability of an unscheduled valuation event a day
AP_SALE_DISCOUNT = 15  # a lender's block discount on a private holding
N_AP = 16

# asset_i[a, column], int
AI_LISTING_DAY = 0  # first day priced on the market (0: public; NEVER: stays private)
AI_SELLABLE_DAY = 1  # first day anyone may sell on the market (after a lock-up)
AI_MARK_EVERY = 2  # scheduled valuation period of a private asset (0: none)
AI_SALE_DELAY = 3  # days after a default before a lender may sell a private holding
AI_IMPACT_LAW = 4  # codes.LAW_*
N_AI = 5

# ---------------------------------------------------------------------------------------------
# One path's market state
# ---------------------------------------------------------------------------------------------

# market[a, column], float
MS_LOGV = 0  # fair log price of one unit
MS_PERM_FIXED = 1  # log of the price impact that never decays
MS_PERM_DECAY = 2  # log of the price impact that decays
MS_PRICE = 3  # price now: market price (listed) or last mark (private)
MS_OPEN = 4  # price at today's open, before today's sales
MS_SOLD = 5  # units sold today by everyone
MS_PEAK = 6  # running peak of the market price (the market-access gauge)
MS_Z = 7  # scratch: today's standard normal
MS_JUMPED = 8  # 1.0: the asset jumped today
MS_SHOCKED = 9  # 1.0: a shock moved the asset today
MS_PENDING = 10  # a valuation event drawn by a quiet stretch for its last day: -1 none, 0 no, 1 yes
MS_LOG_MARK = 11  # log of an unlisted asset's last mark (its MS_PRICE)
MS_GATE = 12  # quiet-day gate of the loans on this listed asset: the log price at or below which one may reach a trigger
N_MS = 13

