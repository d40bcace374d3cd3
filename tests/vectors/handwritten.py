#!/usr/bin/env python3
"""Writes validation.json and push.json: hand-written cases, each with its expected outcome stated
literally. Shared by the TypeScript domain tests and the Rust program's host tests.

Run: python3 tests/vectors/handwritten.py
"""
import json
from pathlib import Path

HERE = Path(__file__).parent
NOW = 1_800_000_000
OK = "ok"
# Pyth's mantissa types: price and EMA price are i64, conf and EMA conf u64.
I64_MAX = 2**63 - 1
I64_MIN = -(2**63)
U64_MAX = 2**64 - 1
ALL_OK = {"display": OK, "push": OK, "margin": OK, "liquidation": OK}

# SOL-PERP's bounds in config/markets.json, repeated here so the vectors stand alone.
BOUNDS = {
    "expoRange": [-18, 0],
    "maxAgeSec": {"display": 60, "push": 30, "margin": 20, "liquidation": 10},
    "maxConfBps": {"display": 300, "push": 100, "margin": 75, "liquidation": 50},
    "maxFutureSkewSec": 5,
    "sanityBandBps": 1000,
    "emaBandBps": 2000,
    "divergenceBps": 100,
}


def pyth(price="15000000000", conf="1500000", expo=-8, age=1, **extra):
    o = {"source": "pyth", "price": price, "conf": conf, "expo": expo, "publishTime": NOW - age}
    o.update(extra)
    return o


def good(price, expo=-8, age=1, source="pyth", conf="0"):
    return {"source": source, "price": price, "conf": conf, "expo": expo, "publishTime": NOW - age}


def last(publish_time, slot=None):
    """The context's last accepted update of the same source and feed."""
    mark = {"publishTime": publish_time}
    if slot is not None:
        mark["slot"] = slot
    return {"lastAccepted": mark}


def case(name, obs, expect, ctx=None, onchain=None, bands=None):
    c = {"name": name, "observation": obs, "context": {"now": NOW, **(ctx or {})}, "expect": expect}
    if onchain is not None:
        # The subset the program enforces too: (price, conf, expo, publish time) against its bounds.
        c["onchain"] = onchain
    if bands is not None:
        # The program's sanity and EMA bands for a pinned Pyth price: the observation against
        # `lastGood` (the market's last good price) and its own EMA; no other source confirms on-chain.
        c["bands"] = bands
    return c


def rejected(reason):
    return {"ok": False, "reason": reason}


def accepted(**grades):
    return {"ok": True, "grades": {**ALL_OK, **grades}}


validation = [
    case("fresh, tight Pyth price", pyth(), accepted(), onchain=True, bands=True),
    case("conf 80 bps: shown and pushed, not for margin or liquidation", pyth(conf="120000000"),
         accepted(margin="confidence_too_wide", liquidation="confidence_too_wide"), onchain=True),
    case("conf exactly at the liquidation bound (50 bps)", pyth(conf="75000000"), accepted(), onchain=True),
    case("conf one unit over the liquidation bound", pyth(conf="75000001"), accepted(liquidation="confidence_too_wide"), onchain=True),
    case("15 s old: too old to liquidate with", pyth(age=15), accepted(liquidation="stale"), onchain=True),
    case("25 s old: display and push only", pyth(age=25), accepted(margin="stale", liquidation="stale"), onchain=True),
    case("30 s old: still pushable", pyth(age=30), accepted(margin="stale", liquidation="stale"), onchain=True),
    case("31 s old: display only", pyth(age=31), accepted(push="stale", margin="stale", liquidation="stale"), onchain=True),
    case("61 s old: rejected", pyth(age=61), rejected("stale"), onchain=True),
    case("5 s in the future: within skew", pyth(age=-5), accepted(), onchain=True),
    case("6 s in the future: rejected", pyth(age=-6), rejected("future_publish_time"), onchain=True),
    case("zero price", pyth(price="0"), rejected("non_positive_price"), onchain=True),
    case("negative price", pyth(price="-15000000000"), rejected("non_positive_price"), onchain=True),
    case("NaN price", pyth(price="NaN"), rejected("non_finite_price")),
    case("Infinity price", pyth(price="Infinity"), rejected("non_finite_price")),
    case("-Infinity price", pyth(price="-Infinity"), rejected("non_finite_price")),
    case("fractional mantissa", pyth(price="150.5"), rejected("non_integer_price")),
    case("mantissa as a float string (\"150.25\")", pyth(price="150.25"), rejected("non_integer_price")),
    case("mantissa in exponent notation (\"1e5\")", pyth(price="1e5"), rejected("non_integer_price")),
    case("mantissa as a fractional JSON number", pyth(price=150.5), rejected("non_integer_price")),
    case("mantissa as a JSON number beyond 2^53: not exact", pyth(price=2**53 + 1), rejected("non_integer_price")),
    case("price is not a number at all", pyth(price="one hundred"), rejected("malformed_price")),
    case("price is an empty string", pyth(price=""), rejected("malformed_price")),
    case("price is null", pyth(price=None), rejected("malformed_price")),
    case("price is an object", pyth(price={"price": "15000000000"}), rejected("malformed_price")),
    case("price is a boolean", pyth(price=True), rejected("malformed_price")),
    case("price missing", {k: v for k, v in pyth().items() if k != "price"}, rejected("malformed_price")),
    case("price at i64::MAX (the edge)", pyth(price=str(I64_MAX)), accepted(), onchain=True),
    case("price i64::MAX + 1: beyond Pyth's i64 (off-chain only: the program receives i64)", pyth(price=str(I64_MAX + 1)),
         rejected("mantissa_out_of_range")),
    case("price below i64::MIN (off-chain only: the program receives i64)", pyth(price=str(I64_MIN - 1)), rejected("mantissa_out_of_range")),
    case("price of 41 digits (off-chain only: the program receives i64)", pyth(price="1" + "0" * 40), rejected("mantissa_out_of_range")),
    case("price as a JSON number 2^63 (off-chain only: the program receives i64)", pyth(price=2**63), rejected("mantissa_out_of_range")),
    case("150 USD at exponent -18 needs 1.5e20, beyond i64 (off-chain only: the program receives i64)",
         pyth(price="150000000000000000000", conf="15000000000000000", expo=-18), rejected("mantissa_out_of_range")),
    case("exponent 7", pyth(expo=7), rejected("exponent_out_of_range"), onchain=True),
    case("exponent -40", pyth(expo=-40), rejected("exponent_out_of_range"), onchain=True),
    case("exponent -18 (the edge)", pyth(price="1500000000000000000", conf="150000000000000", expo=-18), accepted(), onchain=True),
    case("exponent 0 (the edge)", pyth(price="150", conf="0", expo=0), accepted(), onchain=True),
    case("fractional exponent", pyth(expo=-8.5), rejected("exponent_out_of_range")),
    case("negative confidence", pyth(conf="-1"), rejected("invalid_confidence")),
    case("confidence not a number", pyth(conf="wide"), rejected("invalid_confidence")),
    case("conf at u64::MAX: within u64, far too wide", pyth(conf=str(U64_MAX)), rejected("confidence_too_wide"), onchain=True),
    case("conf u64::MAX + 1 (off-chain only: the program receives u64)", pyth(conf=str(U64_MAX + 1)), rejected("mantissa_out_of_range")),
    case("conf beyond the display bound (300 bps)", pyth(conf="450000001"), rejected("confidence_too_wide"), onchain=True),
    case("publish time as a string", {**pyth(), "publishTime": str(NOW)}, rejected("malformed")),
    case("publish time zero", {**pyth(), "publishTime": 0}, rejected("malformed")),
    case("unknown feed", pyth(), rejected("unknown_feed"), ctx={"unknownFeed": True}),
    case("slot as a string", pyth(slot="101"), rejected("malformed")),
    case("negative slot", pyth(slot=-1), rejected("malformed")),
    case("publish time going backwards", pyth(), rejected("publish_time_regressed"), ctx=last(NOW), onchain=True),
    case("same publish time again", pyth(), rejected("duplicate"), ctx=last(NOW - 1), onchain=True),
    case("newer than the last accepted", pyth(), accepted(), ctx=last(NOW - 2), onchain=True),
    # Pythnet publishes 2-3 aggregates per feed per second: within one publish second, a later slot is
    # a newer price. The program orders pushes by publish time only (a same-second push is a replay),
    # so these cases are off-chain only.
    case("same second, later slot: a newer aggregate (off-chain only: the program has no slot)", pyth(slot=101), accepted(),
         ctx=last(NOW - 1, slot=100)),
    case("same second, same slot (off-chain only: the program has no slot)", pyth(slot=100), rejected("duplicate"),
         ctx=last(NOW - 1, slot=100)),
    case("same second, earlier slot (off-chain only: the program has no slot)", pyth(slot=99), rejected("duplicate"),
         ctx=last(NOW - 1, slot=100)),
    case("same second, the update has no slot (off-chain only: the program has no slot)", pyth(), rejected("duplicate"),
         ctx=last(NOW - 1, slot=100)),
    case("same second, the last accepted has no slot (off-chain only: the program has no slot)", pyth(slot=101), rejected("duplicate"),
         ctx=last(NOW - 1)),
    case("earlier second, later slot (off-chain only: the program has no slot)", pyth(slot=101), rejected("publish_time_regressed"),
         ctx=last(NOW, slot=100)),
    case("later second, earlier slot: publish time decides (off-chain only: the program has no slot)", pyth(slot=99), accepted(),
         ctx=last(NOW - 2, slot=100)),
    case("same second, later slot, jump of 13 % (off-chain only: the program has no slot)", pyth(price="17000000000", slot=101),
         rejected("sanity_band_exceeded"), ctx={**last(NOW - 1, slot=100), "lastGood": good("15000000000")}),
    case("same second, later slot, 25 % away from the EMA (off-chain only: the program has no slot)",
         pyth(slot=101, emaPrice="12000000000", emaConf="1000000"), rejected("ema_band_exceeded"), ctx=last(NOW - 1, slot=100)),
    case("jump of 13 % against the last good price", pyth(price="17000000000"), rejected("sanity_band_exceeded"),
         ctx={"lastGood": good("15000000000", age=2)}, bands=True),
    case("jump of exactly 10 % (the band's edge)", pyth(price="16500000000"), accepted(),
         ctx={"lastGood": good("15000000000", age=2)}, bands=True),
    case("jump of 10 % and one unit", pyth(price="16500000001"), rejected("sanity_band_exceeded"),
         ctx={"lastGood": good("15000000000", age=2)}, bands=True),
    case("30 % below the last good price", pyth(price="10500000000"), rejected("sanity_band_exceeded"),
         ctx={"lastGood": good("15000000000", age=2)}, bands=True),
    case("10 % against a last good price at another exponent (the edge)", pyth(price="16500000000"), accepted(),
         ctx={"lastGood": good("150000000", expo=-6, age=2)}, bands=True),
    case("10 % and one unit against a last good price at another exponent", pyth(price="16500000001"),
         rejected("sanity_band_exceeded"), ctx={"lastGood": good("150000000", expo=-6, age=2)}, bands=True),
    case("jump of 13 % confirmed by CoinGecko", pyth(price="17000000000"), accepted(),
         ctx={"lastGood": good("15000000000", age=2), "otherSource": good("1695", expo=-1, source="coingecko", age=3)}),
    case("jump after an outage: the old anchor no longer counts", pyth(price="17000000000"), accepted(),
         ctx={"lastGood": good("15000000000", age=600)}, bands=True),
    case("last good price exactly at the display age still anchors", pyth(price="17000000000"), rejected("sanity_band_exceeded"),
         ctx={"lastGood": good("15000000000", age=60)}, bands=True),
    case("25 % away from the EMA", pyth(emaPrice="12000000000", emaConf="1000000"), rejected("ema_band_exceeded"), bands=True),
    case("19 % away from the EMA", pyth(price="14280000000", emaPrice="12000000000", emaConf="1000000"), accepted(), bands=True),
    case("EMA at twice the price", pyth(emaPrice="30000000000", emaConf="1000000"), rejected("ema_band_exceeded"), bands=True),
    case("within the sanity band, beyond the EMA band", pyth(price="15500000000", emaPrice="12000000000", emaConf="1000000"),
         rejected("ema_band_exceeded"), ctx={"lastGood": good("15000000000", age=2)}, bands=True),
    case("EMA price as a fraction", pyth(emaPrice="150.5", emaConf="1000000"), rejected("invalid_ema")),
    case("EMA price NaN", pyth(emaPrice="NaN", emaConf="1000000"), rejected("invalid_ema")),
    case("EMA price null", pyth(emaPrice=None, emaConf="1000000"), rejected("invalid_ema")),
    case("EMA conf not a number", pyth(emaPrice="15000000000", emaConf="wide"), rejected("invalid_ema")),
    case("negative EMA conf", pyth(emaPrice="15000000000", emaConf="-1"), rejected("invalid_ema")),
    case("EMA price beyond i64 (off-chain only: Pyth's EMA is an i64, its conf a u64)", pyth(emaPrice=str(I64_MAX + 1), emaConf="1000000"),
         rejected("mantissa_out_of_range")),
    case("EMA conf beyond u64 (off-chain only: Pyth's EMA is an i64, its conf a u64)", pyth(emaPrice="15000000000", emaConf=str(U64_MAX + 1)),
         rejected("mantissa_out_of_range")),
    case("CoinGecko price: display and margin only", {"source": "coingecko", "price": 151.23, "publishTime": NOW - 3},
         accepted(push="source_not_allowed", liquidation="source_not_allowed")),
    case("CoinGecko price as a decimal string", {"source": "coingecko", "price": "0.0000201", "publishTime": NOW - 3},
         accepted(push="source_not_allowed", liquidation="source_not_allowed")),
    case("CoinGecko NaN", {"source": "coingecko", "price": "NaN", "publishTime": NOW - 3}, rejected("non_finite_price")),
    case("CoinGecko Infinity", {"source": "coingecko", "price": "Infinity", "publishTime": NOW - 3}, rejected("non_finite_price")),
    case("CoinGecko empty string", {"source": "coingecko", "price": "", "publishTime": NOW - 3}, rejected("malformed_price")),
    case("CoinGecko price as an object", {"source": "coingecko", "price": {"usd": 151.23}, "publishTime": NOW - 3}, rejected("malformed_price")),
    case("CoinGecko price in exponent notation", {"source": "coingecko", "price": "1.5123e2", "publishTime": NOW - 3},
         accepted(push="source_not_allowed", liquidation="source_not_allowed")),
    case("CoinGecko price at i64::MAX at exponent 0 (the edge)", {"source": "coingecko", "price": str(I64_MAX), "publishTime": NOW - 3},
         accepted(push="source_not_allowed", liquidation="source_not_allowed")),
    case("CoinGecko 1e19: mantissa beyond i64 at exponent 0", {"source": "coingecko", "price": 1e19, "publishTime": NOW - 3},
         rejected("mantissa_out_of_range")),
    case("CoinGecko 18 decimals of 151.23: mantissa 1.5e20 beyond i64 at exponent -18",
         {"source": "coingecko", "price": "151.234567890123456789", "publishTime": NOW - 3}, rejected("mantissa_out_of_range")),
    case("CoinGecko unchanged (same publish time, no slot)", {"source": "coingecko", "price": 151.23, "publishTime": NOW - 3},
         rejected("duplicate"), ctx=last(NOW - 3)),
    case("CoinGecko zero", {"source": "coingecko", "price": 0, "publishTime": NOW - 3}, rejected("non_positive_price")),
    case("CoinGecko price finer than 10^-18", {"source": "coingecko", "price": "1e-20", "publishTime": NOW - 3}, rejected("exponent_out_of_range")),
    case("CoinGecko null price", {"source": "coingecko", "price": None, "publishTime": NOW - 3}, rejected("malformed_price")),
]

POLICY = {"deviationBps": 10, "heartbeatSec": 10, "confChangeBps": 2000}


def chain(price="15000000000", conf="1500000", expo=-8, age=5):
    return {"price": price, "conf": conf, "expo": expo, "publishTime": NOW - age}


def push_case(name, candidate, on_chain, expect):
    return {"name": name, "candidate": candidate, "onChain": on_chain, "now": NOW, "expect": expect}


push = [
    push_case("nothing on-chain yet", good("15000000000", conf="1500000"), None, {"push": True, "triggers": ["initial"]}),
    push_case("flat price, fresh on-chain", good("15000000000", conf="1500000"), chain(), {"push": False, "reason": "within_thresholds"}),
    push_case("moved exactly 10 bps", good("15015000000", conf="1500000"), chain(), {"push": True, "triggers": ["deviation"]}),
    push_case("moved 9.9 bps", good("15014850000", conf="1500000"), chain(), {"push": False, "reason": "within_thresholds"}),
    push_case("moved down 10 bps", good("14985000000", conf="1500000"), chain(), {"push": True, "triggers": ["deviation"]}),
    push_case("confidence grew 20 %", good("15000000000", conf="1800000"), chain(), {"push": True, "triggers": ["confidence"]}),
    push_case("confidence grew 19 %", good("15000000000", conf="1785000"), chain(), {"push": False, "reason": "within_thresholds"}),
    push_case("heartbeat: on-chain 10 s old", good("15000000000", conf="1500000"), chain(age=10), {"push": True, "triggers": ["heartbeat"]}),
    push_case("deviation and heartbeat together", good("15100000000", conf="1500000"), chain(age=12), {"push": True, "triggers": ["deviation", "heartbeat"]}),
    push_case("not newer than on-chain", good("15100000000", conf="1500000", age=5), chain(age=5), {"push": False, "reason": "not_newer"}),
    push_case("older than on-chain", good("15100000000", conf="1500000", age=6), chain(age=5), {"push": False, "reason": "not_newer"}),
    push_case("too old to push (31 s)", good("15100000000", conf="1500000", age=31), chain(age=40), {"push": False, "reason": "stale"}),
    push_case("too uncertain to push (101 bps)", good("15000000000", conf="151500000"), chain(), {"push": False, "reason": "confidence_too_wide"}),
    push_case("a fallback price is never pushed", good("15123", expo=-2, source="coingecko"), chain(age=40), {"push": False, "reason": "source_not_allowed"}),
    push_case("different exponents compared exactly", good("150150000", expo=-6, conf="15000"), chain(), {"push": True, "triggers": ["deviation"]}),
]

if __name__ == "__main__":
    (HERE / "validation.json").write_text(json.dumps({"bounds": BOUNDS, "cases": validation}, indent=1) + "\n")
    (HERE / "push.json").write_text(json.dumps({"bounds": BOUNDS, "policy": POLICY, "cases": push}, indent=1) + "\n")
    print(f"wrote {len(validation)} validation and {len(push)} push cases")
