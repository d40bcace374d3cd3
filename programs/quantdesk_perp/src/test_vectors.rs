//! Host tests against files shared with the TypeScript side: the vectors in `tests/vectors/`
//! (written by an independent Python oracle).

use crate::error::PerpError;
use crate::math::liquidation::{plan_liquidation, Liquidation, LiquidationInput, LiquidationParams};
use crate::math::margin::{is_liquidatable, meets_initial_margin, notional, settle, unrealized_pnl};
use crate::oracle::resolve::{check_bands, Bands};
use crate::oracle::{validate, Action, Bounds, PriceData};
use std::path::PathBuf;

/// A minimal JSON reader: numbers are kept as their source text, so big integers stay exact.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    pub fn parse(text: &str) -> Json {
        let mut p = Parser { s: text.as_bytes(), i: 0 };
        let v = p.value();
        p.ws();
        assert_eq!(p.i, p.s.len(), "trailing characters in JSON");
        v
    }

    pub fn get(&self, key: &str) -> &Json {
        match self {
            Json::Obj(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v).unwrap_or(&Json::Null),
            _ => &Json::Null,
        }
    }

    pub fn arr(&self) -> &[Json] {
        match self {
            Json::Arr(items) => items,
            other => panic!("not an array: {other:?}"),
        }
    }

    pub fn str(&self) -> &str {
        match self {
            Json::Str(s) => s,
            other => panic!("not a string: {other:?}"),
        }
    }

    /// A number or a numeric string, as an integer.
    pub fn int(&self) -> i128 {
        match self {
            Json::Num(s) | Json::Str(s) => s.parse().unwrap_or_else(|_| panic!("not an integer: {s}")),
            other => panic!("not a number: {other:?}"),
        }
    }

    pub fn bool(&self) -> bool {
        match self {
            Json::Bool(b) => *b,
            other => panic!("not a boolean: {other:?}"),
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) {
        self.ws();
        assert_eq!(self.s[self.i], c, "expected '{}' at {}", c as char, self.i);
        self.i += 1;
    }

    fn value(&mut self) -> Json {
        self.ws();
        match self.s[self.i] {
            b'{' => {
                self.i += 1;
                let mut fields = Vec::new();
                self.ws();
                if self.s[self.i] == b'}' {
                    self.i += 1;
                    return Json::Obj(fields);
                }
                loop {
                    self.ws();
                    let key = self.string();
                    self.eat(b':');
                    fields.push((key, self.value()));
                    self.ws();
                    self.i += 1;
                    if self.s[self.i - 1] == b'}' {
                        return Json::Obj(fields);
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s[self.i] == b']' {
                    self.i += 1;
                    return Json::Arr(items);
                }
                loop {
                    items.push(self.value());
                    self.ws();
                    self.i += 1;
                    if self.s[self.i - 1] == b']' {
                        return Json::Arr(items);
                    }
                }
            }
            b'"' => Json::Str(self.string()),
            b't' => self.word("true", Json::Bool(true)),
            b'f' => self.word("false", Json::Bool(false)),
            b'n' => self.word("null", Json::Null),
            _ => {
                let start = self.i;
                while self.i < self.s.len() && (self.s[self.i].is_ascii_digit() || b"+-.eE".contains(&self.s[self.i])) {
                    self.i += 1;
                }
                Json::Num(String::from_utf8(self.s[start..self.i].to_vec()).unwrap())
            }
        }
    }

    fn word(&mut self, w: &str, v: Json) -> Json {
        assert_eq!(&self.s[self.i..self.i + w.len()], w.as_bytes());
        self.i += w.len();
        v
    }

    fn string(&mut self) -> String {
        assert_eq!(self.s[self.i], b'"');
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let c = self.s[self.i];
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).unwrap(),
                b'\\' => {
                    let e = self.s[self.i];
                    self.i += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let hex = std::str::from_utf8(&self.s[self.i..self.i + 4]).unwrap();
                            self.i += 4;
                            let ch = char::from_u32(u32::from_str_radix(hex, 16).unwrap()).unwrap_or('?');
                            out.extend(ch.to_string().as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                other => out.push(other),
            }
        }
    }
}

fn repo_file(relative: &str) -> Json {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Json::parse(&text)
}

#[test]
fn margin_vectors() {
    let v = repo_file("../../tests/vectors/margin.json");
    let units = v.get("units");
    assert_eq!((units.get("baseDecimals").int(), units.get("priceDecimals").int(), units.get("quoteDecimals").int()), (9, 9, 6));
    let cases = v.get("cases").arr();
    assert!(cases.len() >= 50, "expected the generated cases, found {}", cases.len());
    for c in cases {
        let name = c.get("name").str();
        let params = c.get("params");
        let (initial, maintenance, fee) = (
            params.get("initialBps").int() as u16,
            params.get("maintenanceBps").int() as u16,
            params.get("liquidationFeeBps").int() as u16,
        );
        let pos = c.get("position");
        let size = pos.get("size").int() as i64;
        let entry = pos.get("entryPrice").int() as u64;
        let collateral = pos.get("collateral").int() as u64;
        let mark = c.get("mark").int() as u64;
        let expect = c.get("expect");

        assert_eq!(notional(size, mark).unwrap() as i128, expect.get("notional").int(), "{name}: notional");
        let pnl = unrealized_pnl(size, entry, mark);
        assert_eq!(pnl, expect.get("unrealizedPnl").int(), "{name}: pnl");
        assert_eq!(collateral as i128 + pnl, expect.get("equity").int(), "{name}: equity");
        assert_eq!(is_liquidatable(collateral, size, entry, mark, maintenance).unwrap(), expect.get("liquidatable").bool(), "{name}: liquidatable");
        assert_eq!(
            meets_initial_margin(collateral, size, entry, mark, initial).unwrap(),
            expect.get("meetsInitialMargin").bool(),
            "{name}: initial margin"
        );
        let s = settle(collateral, size, entry, mark, fee).unwrap();
        let want = expect.get("settlement");
        assert_eq!(s.pnl, want.get("pnl").int(), "{name}: settled pnl");
        assert_eq!(s.keeper_fee as i128, want.get("keeperFee").int(), "{name}: keeper fee");
        assert_eq!(s.to_owner as i128, want.get("toOwner").int(), "{name}: to owner");
        assert_eq!(s.bad_debt as i128, want.get("badDebt").int(), "{name}: bad debt");
    }
}

#[test]
fn liquidation_vectors() {
    let v = repo_file("../../tests/vectors/liquidation.json");
    let cases = v.get("cases").arr();
    assert!(cases.len() >= 50, "expected the generated cases, found {}", cases.len());
    let mut planned = 0;
    for c in cases {
        let name = c.get("name").str();
        let p = c.get("params");
        let params = LiquidationParams {
            maintenance_bps: p.get("maintenanceBps").int() as u16,
            fee_bps: p.get("liquidationFeeBps").int() as u16,
            buffer_bps: p.get("liquidationBufferBps").int() as u16,
            insurance_share_bps: p.get("insuranceFeeShareBps").int() as u16,
            min_notional: p.get("minPositionNotional").int() as u64,
        };
        let pos = c.get("position");
        let input = LiquidationInput {
            collateral: pos.get("collateral").int() as u64,
            size: pos.get("size").int() as i64,
            entry: pos.get("entryPrice").int() as u64,
            mark: c.get("mark").int() as u64,
            insurance_balance: c.get("insuranceBalance").int() as u64,
        };
        let expect = c.get("expect");
        let liquidatable = is_liquidatable(input.collateral, input.size, input.entry, input.mark, params.maintenance_bps).unwrap();
        assert_eq!(liquidatable, expect.get("liquidatable").bool(), "{name}: liquidatable");
        if !liquidatable {
            continue;
        }
        let mut l = Liquidation::default();
        plan_liquidation(&input, &params, &mut l).unwrap();
        let got = [
            ("sizeLiquidated", l.size_liquidated as i128),
            ("remainingSize", l.remaining_size as i128),
            ("notionalLiquidated", l.notional_liquidated as i128),
            ("realizedPnl", l.realized_pnl),
            ("fee", l.fee as i128),
            ("keeperFee", l.keeper_fee as i128),
            ("insuranceFee", l.insurance_fee as i128),
            ("remainingCollateral", l.remaining_collateral as i128),
            ("lossBeyondCollateral", l.loss_beyond_collateral as i128),
            ("insuranceCover", l.insurance_cover as i128),
            ("badDebt", l.bad_debt as i128),
        ];
        assert_eq!(l.full, expect.get("full").bool(), "{name}: full");
        for (key, value) in got {
            assert_eq!(value, expect.get(key).int(), "{name}: {key}");
        }
        planned += 1;
    }
    assert!(planned >= 40, "only {planned} liquidations planned");
}

fn reason_to_error(reason: &str) -> Result<(), PerpError> {
    Err(match reason {
        "ok" => return Ok(()),
        "stale" => PerpError::PriceStale,
        "confidence_too_wide" => PerpError::ConfidenceTooWide,
        "future_publish_time" => PerpError::PriceInFuture,
        "non_positive_price" => PerpError::NonPositivePrice,
        "exponent_out_of_range" => PerpError::ExponentOutOfRange,
        "publish_time_regressed" => PerpError::PublishTimeRegressed,
        "duplicate" => PerpError::PublishTimeDuplicate,
        other => panic!("a case marked onchain has a reason the program does not know: {other}"),
    })
}

/// Every case marked `"onchain": true` is checked per action the program grades (push, margin,
/// liquidation): the domain's grade for that action, or its rejection reason, must be the
/// program's verdict. Publish-time monotonicity applies to pushes only.
#[test]
fn validation_vectors() {
    let v = repo_file("../../tests/vectors/validation.json");
    let b = v.get("bounds");
    let expo = b.get("expoRange").arr();
    let bounds = |action: &str| Bounds {
        expo_min: expo[0].int() as i32,
        expo_max: expo[1].int() as i32,
        max_future_skew_sec: b.get("maxFutureSkewSec").int() as u32,
        max_age_sec: b.get("maxAgeSec").get(action).int() as u32,
        max_conf_bps: b.get("maxConfBps").get(action).int() as u16,
    };
    let mut checked = 0;
    let mut unrepresentable = 0;
    for c in v.get("cases").arr() {
        if c.get("expect").get("reason") == &Json::Str("mantissa_out_of_range".into()) {
            assert!(!fits_pyth_types(c.get("observation")), "{}: its mantissas fit Pyth's types", c.get("name").str());
            unrepresentable += 1;
        }
        if c.get("onchain") != &Json::Bool(true) {
            continue;
        }
        let name = c.get("name").str();
        let o = c.get("observation");
        let p = PriceData {
            price: o.get("price").int() as i64,
            conf: o.get("conf").int() as u64,
            expo: o.get("expo").int() as i32,
            publish_time: o.get("publishTime").int() as i64,
        };
        let ctx = c.get("context");
        let now = ctx.get("now").int() as i64;
        // The program orders pushes by publish time only: cases that need a slot are off-chain.
        let last = match ctx.get("lastAccepted").get("publishTime") {
            Json::Null => None,
            t => Some(t.int() as i64),
        };
        let expect = c.get("expect");
        for (action, key) in [(Action::Push, "push"), (Action::Margin, "margin"), (Action::Liquidation, "liquidation")] {
            if last.is_some() && action != Action::Push {
                continue;
            }
            let reason = if expect.get("ok").bool() { expect.get("grades").get(key).str() } else { expect.get("reason").str() };
            let previous = if action == Action::Push { last } else { None };
            assert_eq!(validate(&p, &bounds(key), now, previous), reason_to_error(reason), "{name} ({key})");
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} on-chain verdicts checked");
    assert!(unrepresentable >= 5, "only {unrepresentable} out-of-range cases");
}

/// Every case marked `"bands": true`: the program's sanity and EMA bands for a pinned Pyth price
/// give the domain's verdict, with the case's last good price as the market's and no other
/// source to confirm a jump.
#[test]
fn band_vectors() {
    let v = repo_file("../../tests/vectors/validation.json");
    let b = v.get("bounds");
    let bands = Bands {
        anchor_max_age_sec: b.get("maxAgeSec").get("display").int() as u32,
        sanity_band_bps: b.get("sanityBandBps").int() as u16,
        ema_band_bps: b.get("emaBandBps").int() as u16,
    };
    let price = |o: &Json| PriceData {
        price: o.get("price").int() as i64,
        conf: o.get("conf").int() as u64,
        expo: o.get("expo").int() as i32,
        publish_time: o.get("publishTime").int() as i64,
    };
    let mut checked = 0;
    for c in v.get("cases").arr() {
        if c.get("bands") != &Json::Bool(true) {
            continue;
        }
        let name = c.get("name").str();
        let o = c.get("observation");
        let ctx = c.get("context");
        assert_eq!(ctx.get("otherSource"), &Json::Null, "{name}: no other source confirms on-chain");
        let anchor = match ctx.get("lastGood") {
            Json::Null => None,
            g => Some(price(g)),
        };
        let ema = match o.get("emaPrice") {
            Json::Null => 0,
            e => e.int() as i64,
        };
        let expect = c.get("expect");
        let want = if expect.get("ok").bool() {
            Ok(())
        } else {
            Err(match expect.get("reason").str() {
                "sanity_band_exceeded" => PerpError::SanityBandExceeded,
                "ema_band_exceeded" => PerpError::EmaBandExceeded,
                other => panic!("{name}: a bands case rejected for {other}"),
            })
        };
        assert_eq!(check_bands(&price(o), ema, anchor.as_ref(), &bands, ctx.get("now").int() as i64), want, "{name}");
        checked += 1;
    }
    assert!(checked >= 12, "only {checked} band cases");
}

/// Whether an observation's Pyth mantissas would fit the program's `PriceData` (price i64, conf
/// u64) and Pyth's EMA fields (i64, u64): a case rejected as `mantissa_out_of_range` must not, which
/// is why such cases can never reach the program. A CoinGecko price is checked at its exponent.
fn fits_pyth_types(o: &Json) -> bool {
    let text = |j: &Json| match j {
        Json::Num(s) | Json::Str(s) => Some(s.clone()),
        _ => None,
    };
    let fits = |j: &Json, signed: bool| match text(j) {
        None => true,
        Some(s) if signed => s.parse::<i64>().is_ok(),
        Some(s) => s.parse::<u64>().is_ok(),
    };
    if o.get("source").str() == "coingecko" {
        let s = text(o.get("price")).expect("a CoinGecko price");
        return coingecko_mantissa(&s).is_some_and(|m| m.parse::<i64>().is_ok());
    }
    fits(o.get("price"), true) && fits(o.get("conf"), false) && fits(o.get("emaPrice"), true) && fits(o.get("emaConf"), false)
}

/// A plain or exponent-notation decimal's mantissa at its own exponent (trailing fractional zeros
/// dropped), as digits; None for other text.
fn coingecko_mantissa(s: &str) -> Option<String> {
    let (number, exp) = match s.split_once(['e', 'E']) {
        Some((n, e)) => (n, e.trim_start_matches('+').parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    let mut digits = format!("{int}{frac}");
    let mut scale = frac.len() as i32 - exp;
    while scale > 0 && digits.ends_with('0') {
        digits.pop();
        scale -= 1;
    }
    if scale < 0 {
        digits.extend(std::iter::repeat_n('0', (-scale) as usize));
    }
    let digits = digits.trim_start_matches('0');
    Some(if digits.is_empty() { "0".into() } else { digits.into() })
}
