#!/usr/bin/env python3
"""Writes the shared numeric test vectors (margin.json, decimal.json).

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
    (HERE / "decimal.json").write_text(json.dumps(decimal_vectors(), indent=1) + "\n")
    print("wrote margin.json and decimal.json")
