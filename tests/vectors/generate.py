#!/usr/bin/env python3
"""Writes the shared numeric test vectors (margin.json, liquidation.json, decimal.json).

An independent oracle: exact rational arithmetic (fractions.Fraction), written apart from both the
TypeScript domain and the Rust program, which are each tested against these files. Validation and
push-policy vectors (validation.json, push.json) are written by hand, case by case.

Run: python3 tests/vectors/generate.py   (deterministic: fixed seed)
"""
import json
import math
import random
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).parent
BASE, PRICE, QUOTE = 9, 9, 6
K = 10 ** (BASE + PRICE - QUOTE)  # size * price / K = quote units
BPS = 10_000


def floor(fr):
    return math.floor(fr)


def ceil(fr):
    return math.ceil(fr)


def margin_case(name, size, entry, collateral, mark, conf, params):
    m, i, f = params["maintenanceBps"], params["initialBps"], params["liquidationFeeBps"]
    a = abs(size)
    pnl_exact = Fraction(size * (mark - entry), K)
    equity_exact = collateral + pnl_exact
    notional_exact = Fraction(a * mark, K)
    liquidatable = size != 0 and equity_exact < notional_exact * Fraction(m, BPS)
    meets_initial = (collateral >= 0) if size == 0 else equity_exact >= notional_exact * Fraction(i, BPS)
    if size == 0:
        liq = None
    elif size > 0:
        p = Fraction(size * entry - collateral * K, size) / (1 - Fraction(m, BPS))
        liq = None if p <= 0 else ceil(p)
    else:
        p = Fraction(collateral * K + a * entry, a) / (1 + Fraction(m, BPS))
        liq = floor(p)
    pnl = floor(pnl_exact)
    remaining = collateral + pnl
    left = max(remaining, 0)
    fee = min(floor(Fraction(floor(notional_exact) * f, BPS)), left)
    low_mark = max(mark - conf, 1)
    band = sorted([floor(Fraction(size * (low_mark - entry), K)), floor(Fraction(size * (mark + conf - entry), K))])
    return {
        "name": name,
        "params": params,
        "position": {"size": str(size), "entryPrice": str(entry), "collateral": str(collateral)},
        "mark": str(mark),
        "conf": str(conf),
        "expect": {
            "notional": str(floor(notional_exact)),
            "unrealizedPnl": str(pnl),
            "equity": str(collateral + pnl),
            "marginRatioBps": None if size == 0 else str(floor((equity_exact * BPS) / notional_exact)),
            "maintenanceMargin": str(ceil(Fraction(ceil(notional_exact) * m, BPS))),
            "initialMargin": str(ceil(Fraction(ceil(notional_exact) * i, BPS))),
            "liquidatable": liquidatable,
            "meetsInitialMargin": meets_initial,
            "liquidationPrice": None if liq is None else str(liq),
            "pnlBand": {"low": str(band[0]), "high": str(band[1])},
            "settlement": {
                "pnl": str(pnl),
                "keeperFee": str(fee),
                "toOwner": str(left - fee),
                "badDebt": str(max(-remaining, 0)),
            },
        },
    }


def margin_vectors():
    rnd = random.Random(20261124)
    majors = {"initialBps": 1000, "maintenanceBps": 500, "liquidationFeeBps": 100}
    alts = {"initialBps": 2000, "maintenanceBps": 1000, "liquidationFeeBps": 100}
    usd = 10 ** QUOTE
    px = lambda dollars: int(Fraction(dollars) * 10 ** PRICE)
    sz = lambda units: int(Fraction(units) * 10 ** BASE)
    cases = [
        margin_case("flat position", 0, 0, 100 * usd, px("150"), px("0.05"), majors),
        margin_case("long SOL in profit", sz(10), px("150"), 300 * usd, px("160"), px("0.05"), majors),
        margin_case("long SOL at a loss, healthy", sz(10), px("150"), 300 * usd, px("130"), px("0.05"), majors),
        margin_case("long SOL just above maintenance", sz(10), px("150"), 150 * usd, px("142.11"), px("0.05"), majors),
        margin_case("long SOL liquidatable", sz(10), px("150"), 150 * usd, px("142.10"), px("0.05"), majors),
        margin_case("long SOL under water (bad debt)", sz(10), px("150"), 100 * usd, px("120"), px("0.05"), majors),
        margin_case("short BTC in profit", -sz("0.5"), px("95000"), 5000 * usd, px("94000"), px("20"), majors),
        margin_case("short BTC liquidatable", -sz("0.5"), px("95000"), 5000 * usd, px("104000"), px("20"), majors),
        margin_case("short ETH exactly at the boundary", -sz(2), px("3000"), 300 * usd, px("3000"), px("1"), majors),
        margin_case("long overcollateralised (no liquidation price)", sz(1), px("150"), 200 * usd, px("150"), px("0.05"), majors),
        margin_case("long BONK tiny price", sz(10_000_000), px("0.000020"), 40 * usd, px("0.000019"), px("0.0000001"), alts),
        margin_case("long at 10x exactly initial", sz(10), px("100"), 100 * usd, px("100"), 0, majors),
        margin_case("long at 10x plus one unit", sz(10) + 1, px("100"), 100 * usd, px("100"), 0, majors),
        margin_case("large BTC long near i64 bounds", sz(50), px("200000"), 2_000_000 * usd, px("199999.999999999"), px("50"), majors),
    ]
    for n in range(40):
        params = majors if n % 2 == 0 else alts
        size = rnd.choice([1, -1]) * rnd.randint(1, 10**6) * 10**rnd.randint(3, 9)
        entry = rnd.randint(10**4, 10**15)
        mark = max(1, entry + rnd.randint(-entry // 4, entry // 4))
        notional_q = abs(size) * entry // K
        collateral = rnd.randint(0, max(1, notional_q // 3))
        conf = rnd.randint(0, max(1, mark // 500))
        cases.append(margin_case(f"random {n}", size, entry, collateral, mark, conf, params))
    return {"units": {"baseDecimals": BASE, "priceDecimals": PRICE, "quoteDecimals": QUOTE}, "cases": cases}


def liquidation_case(name, size, entry, collateral, mark, params, insurance):
    """A liquidation as the program performs it (Drift's rules, simplified), decided exactly:

    below maintenance margin at `mark`, liquidate the least size d whose remainder, after the fee
    on d, meets maintenance + buffer even when realized PnL and the fee are rounded (one quote unit
    of allowance); all of it when d reaches the size or the remainder's notional would be under
    minPositionNotional. The fee (liquidationFeeBps of the liquidated notional) is split: the
    insurance fund's share, the rest to the keeper. A loss beyond collateral takes the insurance
    fund first; bad debt is what is left.
    """
    m, f = params["maintenanceBps"], params["liquidationFeeBps"]
    b, i, n_min = params["liquidationBufferBps"], params["insuranceFeeShareBps"], int(params["minPositionNotional"])
    a = abs(size)
    sign = 1 if size > 0 else -1
    equity = collateral + Fraction(size * (mark - entry), K)
    liquidatable = equity < Fraction(a * mark, K) * Fraction(m, BPS)
    case = {
        "name": name,
        "params": params,
        "position": {"size": str(size), "entryPrice": str(entry), "collateral": str(collateral)},
        "mark": str(mark),
        "insuranceBalance": str(insurance),
    }
    if not liquidatable:
        case["expect"] = {"liquidatable": False}
        return case

    def covers(d):
        """Equity less one quote unit and the exact fee on d covers maintenance + buffer on a - d."""
        fee = Fraction(d * mark, K) * Fraction(f, BPS)
        return (equity - 1 - fee) >= Fraction((a - d) * mark, K) * Fraction(m + b, BPS)

    need = (Fraction(a * mark * (m + b), BPS * K) - (equity - 1)) / (Fraction(mark, K) * Fraction(m + b - f, BPS))
    d = max(1, ceil(need))
    assert covers(d) and (d == 1 or not covers(d - 1)), name
    full = d >= a or floor(Fraction((a - d) * mark, K)) < n_min
    if not full:
        pnl = floor(Fraction(sign * d * (mark - entry), K))
        fee = floor(Fraction(floor(Fraction(d * mark, K)) * f, BPS))
        remaining_collateral = collateral + pnl - fee
        if remaining_collateral < 0:
            full = True
    if full:
        d = a
        pnl = floor(Fraction(size * (mark - entry), K))
        rest = collateral + pnl
        left = max(rest, 0)
        fee = min(floor(Fraction(floor(Fraction(a * mark, K)) * f, BPS)), left)
        remaining_collateral = left - fee
        loss = max(-rest, 0)
    else:
        loss = 0
        # The remainder is healthy at mark: above maintenance + buffer, exactly.
        rem = size - sign * d
        rem_equity = remaining_collateral + Fraction(rem * (mark - entry), K)
        assert rem_equity >= Fraction(abs(rem) * mark, K) * Fraction(m + b, BPS), name
    insurance_fee = floor(Fraction(fee * i, BPS))
    cover = min(loss, insurance)
    case["expect"] = {
        "liquidatable": True,
        "full": full,
        "sizeLiquidated": str(sign * d),
        "remainingSize": str(size - sign * d),
        "notionalLiquidated": str(floor(Fraction(d * mark, K))),
        "realizedPnl": str(pnl),
        "fee": str(fee),
        "keeperFee": str(fee - insurance_fee),
        "insuranceFee": str(insurance_fee),
        "remainingCollateral": str(remaining_collateral),
        "lossBeyondCollateral": str(loss),
        "insuranceCover": str(cover),
        "badDebt": str(loss - cover),
    }
    return case


def liquidation_vectors():
    rnd = random.Random(20261125)
    majors = {"maintenanceBps": 500, "liquidationFeeBps": 100, "liquidationBufferBps": 200, "insuranceFeeShareBps": 2500, "minPositionNotional": "10000000"}
    alts = {"maintenanceBps": 1000, "liquidationFeeBps": 100, "liquidationBufferBps": 300, "insuranceFeeShareBps": 5000, "minPositionNotional": "10000000"}
    usd = 10 ** QUOTE
    px = lambda dollars: int(Fraction(dollars) * 10 ** PRICE)
    sz = lambda units: int(Fraction(units) * 10 ** BASE)
    big_fund = 1_000_000 * usd
    cases = [
        liquidation_case("long SOL a cent above maintenance: healthy", sz(10), px("150"), 150 * usd, px("142.11"), majors, big_fund),
        liquidation_case("long SOL just below maintenance: partial", sz(10), px("150"), 150 * usd, px("142.10"), majors, big_fund),
        liquidation_case("long SOL 8 % down: partial, larger", sz(10), px("150"), 150 * usd, px("138"), majors, big_fund),
        liquidation_case("long SOL 9.7 % down: nothing less than all of it restores the buffer, full", sz(10), px("150"), 150 * usd, px("135.5"), majors, big_fund),
        liquidation_case("long SOL under water: full, the insurance fund covers the loss", sz(10), px("150"), 150 * usd, px("120"), majors, big_fund),
        liquidation_case("long SOL under water, small fund: bad debt beyond it", sz(10), px("150"), 150 * usd, px("120"), majors, 100 * usd),
        liquidation_case("long SOL under water, empty fund: all bad debt", sz(10), px("150"), 150 * usd, px("120"), majors, 0),
        liquidation_case("small long: remainder under the minimum notional, full", sz("0.1"), px("150"), 1_500_000, px("142"), majors, big_fund),
        liquidation_case("short BTC liquidatable: partial", -sz("0.5"), px("95000"), 5000 * usd, px("101500"), majors, big_fund),
        liquidation_case("short BTC far beyond: full", -sz("0.5"), px("95000"), 5000 * usd, px("104000"), majors, big_fund),
        liquidation_case("short ETH exactly at maintenance: healthy", -sz(2), px("3000"), 300 * usd, px("3000"), majors, big_fund),
        liquidation_case("short ETH one unit below maintenance: partial, back to maintenance + buffer", -sz(2), px("3000"), 300 * usd - 1, px("3000"), majors, big_fund),
        liquidation_case("long BONK tiny price: partial", sz(10_000_000), px("0.000020"), 25 * usd, px("0.0000185"), alts, big_fund),
        liquidation_case("long JUP alts: partial", sz(1000), px("1"), 120 * usd, px("0.895"), alts, big_fund),
        liquidation_case("long in profit with no collateral: full", sz(1), px("100"), 0, px("100.5"), majors, big_fund),
        liquidation_case("large BTC long deep under maintenance: full", sz(50), px("200000"), 700_000 * usd, px("187000"), majors, big_fund),
    ]
    made = healthy = 0
    while made < 40:
        params = majors if made % 2 == 0 else alts
        size = rnd.choice([1, -1]) * rnd.randint(1, 10**6) * 10**rnd.randint(3, 9)
        entry = rnd.randint(10**4, 10**15)
        notional_q = abs(size) * entry // K
        if notional_q < 10**4:
            continue
        # Collateral near the maintenance requirement, marks a few percent either way.
        collateral = rnd.randint(notional_q * params["maintenanceBps"] // (2 * BPS), notional_q * params["maintenanceBps"] * 3 // BPS)
        mark = max(1, entry + rnd.randint(-entry // 12, entry // 12))
        c = liquidation_case(f"random {made + healthy}", size, entry, collateral, mark, params, rnd.choice([0, rnd.randint(0, notional_q), big_fund]))
        if not c["expect"]["liquidatable"]:
            if healthy >= 8:
                continue
            healthy += 1
        else:
            made += 1
        cases.append(c)
    return {"units": {"baseDecimals": BASE, "priceDecimals": PRICE, "quoteDecimals": QUOTE}, "cases": cases}


def rescale(mantissa, from_scale, to_scale, mode):
    v = Fraction(mantissa, 10**from_scale) * 10**to_scale
    if mode == "floor":
        return floor(v)
    if mode == "ceil":
        return ceil(v)
    if mode == "trunc":
        return int(v)  # toward zero
    lo = floor(v)
    diff = v - lo
    if diff > Fraction(1, 2):
        return lo + 1
    if diff < Fraction(1, 2):
        return lo
    if mode == "halfEven":
        return lo if lo % 2 == 0 else lo + 1
    return lo + 1 if v > 0 else lo  # halfUp: ties away from zero


def decimal_vectors():
    rnd = random.Random(7)
    cases = []
    fixed = [(15123456789, 8, 2), (-15123456789, 8, 2), (25, 1, 0), (-25, 1, 0), (35, 1, 0), (-35, 1, 0), (1, 18, 0), (-1, 18, 0), (999, 0, 9), (123456789, 9, 9)]
    for mantissa, s_from, s_to in fixed:
        for mode in ["floor", "ceil", "trunc", "halfEven", "halfUp"]:
            cases.append({"mantissa": str(mantissa), "from": s_from, "to": s_to, "rounding": mode, "expect": str(rescale(mantissa, s_from, s_to, mode))})
    for _ in range(60):
        mantissa = rnd.randint(-(10**20), 10**20)
        s_from, s_to = rnd.randint(0, 18), rnd.randint(0, 18)
        mode = rnd.choice(["floor", "ceil", "trunc", "halfEven", "halfUp"])
        cases.append({"mantissa": str(mantissa), "from": s_from, "to": s_to, "rounding": mode, "expect": str(rescale(mantissa, s_from, s_to, mode))})
    return {"rescale": cases}


if __name__ == "__main__":
    (HERE / "margin.json").write_text(json.dumps(margin_vectors(), indent=1) + "\n")
    (HERE / "liquidation.json").write_text(json.dumps(liquidation_vectors(), indent=1) + "\n")
    (HERE / "decimal.json").write_text(json.dumps(decimal_vectors(), indent=1) + "\n")
    print("wrote margin.json, liquidation.json and decimal.json")
