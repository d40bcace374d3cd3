//! The IDL, generated (host tests only) from the declarations the program is built from: the
//! instruction table, each instruction's accounts and arguments, the account layouts, the
//! argument and event types and the error enum. `idl/quantdesk_perp.json` is this output; the test
//! below fails on any difference, and rewrites the file when run with `QD_WRITE_IDL=1`
//! (`node programs/sbpf/build.mjs idl`). Anchor 0.30 format, so `@coral-xyz/anchor`'s coder reads it.

use crate::error::PerpError;
use crate::event::{LiquidationDeferred, LiquidationEvent};
use crate::instruction::accounts::*;
use crate::instruction::args::*;
use crate::instruction::{for_each_instruction, Args};
use crate::state::{Config, Keeper, Market, Position};
use crate::Pubkey;
use std::fmt::Write as _;
use std::path::PathBuf;

/// The address the IDL names: the program's id in the localnet and tests. Deployments may use
/// another (the program never reads its own id from anywhere but the runtime).
pub const IDL_ADDRESS: &str = "4worZAjySZDeLyse2MxEstQSXYmy4XaHv2mJtJzRQrn7";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdlType {
    U8,
    Bool,
    U16,
    U32,
    I32,
    U64,
    I64,
    Pubkey,
    /// `[u8; N]`.
    Bytes(usize),
    /// Another declared type, by name.
    Defined(&'static str),
    /// `Vec<Defined>`.
    Vec(&'static str),
}

impl IdlType {
    /// Borsh size; a Vec counts its u32 length only.
    pub fn size(self, types: &[TypeDef]) -> usize {
        match self {
            IdlType::U8 | IdlType::Bool => 1,
            IdlType::U16 => 2,
            IdlType::U32 | IdlType::I32 => 4,
            IdlType::U64 | IdlType::I64 => 8,
            IdlType::Pubkey => 32,
            IdlType::Bytes(n) => n,
            IdlType::Defined(name) => find_type(types, name).fields.iter().map(|f| f.ty.size(types)).sum(),
            IdlType::Vec(_) => 4,
        }
    }
}

pub struct IdlField {
    pub name: &'static str,
    pub docs: &'static [&'static str],
    pub ty: IdlType,
}

pub struct TypeDef {
    pub name: &'static str,
    pub docs: &'static [&'static str],
    pub fields: &'static [IdlField],
}

pub struct LayoutField {
    pub field: IdlField,
    /// Byte offset in the account data, from the Rust struct.
    pub offset: usize,
}

/// A zero-copy account type.
pub struct Layout {
    pub name: &'static str,
    pub docs: &'static [&'static str],
    pub discriminator: [u8; 8],
    pub len: usize,
    pub fields: &'static [LayoutField],
}

pub enum Seed {
    Const(&'static str),
    Account(&'static str),
}

pub struct IdlAccountItem {
    pub name: &'static str,
    pub docs: &'static [&'static str],
    pub writable: bool,
    pub signer: bool,
    pub optional: bool,
    pub address: Option<&'static Pubkey>,
    pub pda: &'static [Seed],
}

pub struct IdlInstruction {
    pub name: &'static str,
    pub docs: &'static [&'static str],
    pub discriminator: u64,
    pub accounts: &'static [IdlAccountItem],
    pub args: &'static [IdlField],
}

macro_rules! idl_instructions {
    ($( $(#[doc = $doc:literal])* $name:ident : $accounts:ident, $args:ident; )*) => {
        &[$( IdlInstruction {
            name: stringify!($name),
            docs: &[$($doc),*],
            discriminator: crate::instruction::discriminators::$name,
            accounts: $accounts::IDL,
            args: <$args as Args>::IDL,
        } ),*]
    };
}

pub const INSTRUCTIONS: &[IdlInstruction] = for_each_instruction!(idl_instructions);
pub const ACCOUNTS: &[Layout] = &[Config::IDL, Market::IDL, Position::IDL, Keeper::IDL];
/// Argument types, referenced by name from instructions.
pub const TYPES: &[TypeDef] = &[MarketParams::IDL, PriceInput::IDL];
/// Events: `(type, discriminator)`.
pub const EVENTS: &[(TypeDef, [u8; 8])] = &[
    (LiquidationEvent::IDL, LiquidationEvent::DISCRIMINATOR),
    (LiquidationDeferred::IDL, LiquidationDeferred::DISCRIMINATOR),
];

fn find_type<'a>(types: &'a [TypeDef], name: &str) -> &'a TypeDef {
    types.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("IDL type {name} is not declared"))
}

/// Doc comment lines as one message (the IDL's error `msg`): trimmed, joined, without the final period.
pub fn doc_text(docs: &[&str]) -> String {
    let text = docs.iter().map(|d| d.trim()).collect::<Vec<_>>().join(" ");
    text.strip_suffix('.').unwrap_or(&text).to_string()
}

fn doc_lines(docs: &[&str]) -> Vec<String> {
    if docs.is_empty() {
        return vec![];
    }
    vec![docs.iter().map(|d| d.trim()).collect::<Vec<_>>().join(" ")]
}

pub fn base58(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut digits: Vec<u8> = vec![];
    for &b in bytes {
        let mut carry = b as u32;
        for d in digits.iter_mut() {
            carry += (*d as u32) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    std::iter::repeat_n('1', zeros).chain(digits.iter().rev().map(|d| ALPHABET[*d as usize] as char)).collect()
}

// ---------------------------------------------------------------------------------------------
// JSON, written as JSON.stringify(value, null, 2) would.

pub enum J {
    Str(String),
    Num(i128),
    Bool(bool),
    Arr(Vec<J>),
    Obj(Vec<(&'static str, J)>),
}

fn s(v: &str) -> J {
    J::Str(v.to_string())
}

fn bytes(v: &[u8]) -> J {
    J::Arr(v.iter().map(|b| J::Num(*b as i128)).collect())
}

fn write_json(out: &mut String, v: &J, indent: usize) {
    let pad = |n: usize| "  ".repeat(n);
    match v {
        J::Str(x) => {
            out.push('"');
            for c in x.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    c if (c as u32) < 0x20 => write!(out, "\\u{:04x}", c as u32).unwrap(),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        J::Num(n) => write!(out, "{n}").unwrap(),
        J::Bool(b) => write!(out, "{b}").unwrap(),
        J::Arr(items) if items.is_empty() => out.push_str("[]"),
        J::Arr(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&pad(indent + 1));
                write_json(out, item, indent + 1);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(indent));
            out.push(']');
        }
        J::Obj(fields) if fields.is_empty() => out.push_str("{}"),
        J::Obj(fields) => {
            out.push_str("{\n");
            for (i, (k, item)) in fields.iter().enumerate() {
                write!(out, "{}\"{k}\": ", pad(indent + 1)).unwrap();
                write_json(out, item, indent + 1);
                out.push_str(if i + 1 < fields.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(indent));
            out.push('}');
        }
    }
}

fn with_docs(mut fields: Vec<(&'static str, J)>, docs: &[&str]) -> Vec<(&'static str, J)> {
    let lines = doc_lines(docs);
    if !lines.is_empty() {
        fields.insert(1, ("docs", J::Arr(lines.iter().map(|l| s(l)).collect())));
    }
    fields
}

fn type_json(t: IdlType) -> J {
    match t {
        IdlType::U8 => s("u8"),
        IdlType::Bool => s("bool"),
        IdlType::U16 => s("u16"),
        IdlType::U32 => s("u32"),
        IdlType::I32 => s("i32"),
        IdlType::U64 => s("u64"),
        IdlType::I64 => s("i64"),
        IdlType::Pubkey => s("pubkey"),
        IdlType::Bytes(n) => J::Obj(vec![("array", J::Arr(vec![s("u8"), J::Num(n as i128)]))]),
        IdlType::Defined(name) => J::Obj(vec![("defined", J::Obj(vec![("name", s(name))]))]),
        IdlType::Vec(name) => J::Obj(vec![("vec", J::Obj(vec![("defined", J::Obj(vec![("name", s(name))]))]))]),
    }
}

fn field_json(f: &IdlField) -> J {
    J::Obj(with_docs(vec![("name", s(f.name)), ("type", type_json(f.ty))], f.docs))
}

fn struct_json(name: &str, docs: &[&str], fields: Vec<J>) -> J {
    J::Obj(with_docs(vec![("name", s(name)), ("type", J::Obj(vec![("kind", s("struct")), ("fields", J::Arr(fields))]))], docs))
}

fn account_item_json(a: &IdlAccountItem) -> J {
    let mut fields = with_docs(vec![("name", s(a.name))], a.docs);
    if a.writable {
        fields.push(("writable", J::Bool(true)));
    }
    if a.signer {
        fields.push(("signer", J::Bool(true)));
    }
    if a.optional {
        fields.push(("optional", J::Bool(true)));
    }
    if let Some(address) = a.address {
        fields.push(("address", s(&base58(address))));
    }
    if !a.pda.is_empty() {
        let seeds = a
            .pda
            .iter()
            .map(|seed| match seed {
                Seed::Const(v) => J::Obj(vec![("kind", s("const")), ("value", bytes(v.as_bytes()))]),
                Seed::Account(path) => J::Obj(vec![("kind", s("account")), ("path", s(path))]),
            })
            .collect();
        fields.push(("pda", J::Obj(vec![("seeds", J::Arr(seeds))])));
    }
    J::Obj(fields)
}

/// The IDL as JSON text.
pub fn generate() -> String {
    let instructions = INSTRUCTIONS
        .iter()
        .map(|ix| {
            J::Obj(with_docs(
                vec![
                    ("name", s(ix.name)),
                    ("discriminator", bytes(&ix.discriminator.to_le_bytes())),
                    ("accounts", J::Arr(ix.accounts.iter().map(account_item_json).collect())),
                    ("args", J::Arr(ix.args.iter().map(field_json).collect())),
                ],
                ix.docs,
            ))
        })
        .collect();
    let accounts = ACCOUNTS.iter().map(|a| J::Obj(vec![("name", s(a.name)), ("discriminator", bytes(&a.discriminator))])).collect();
    let events = EVENTS.iter().map(|(t, d)| J::Obj(vec![("name", s(t.name)), ("discriminator", bytes(d))])).collect();
    let errors = PerpError::ALL
        .iter()
        .map(|e| J::Obj(vec![("code", J::Num(e.code() as i128)), ("name", s(e.name())), ("msg", s(&e.msg()))]))
        .collect();
    let mut types: Vec<J> = ACCOUNTS.iter().map(|a| struct_json(a.name, a.docs, a.fields.iter().map(|f| field_json(&f.field)).collect())).collect();
    types.extend(TYPES.iter().chain(EVENTS.iter().map(|(t, _)| t)).map(|t| struct_json(t.name, t.docs, t.fields.iter().map(field_json).collect())));
    let idl = J::Obj(vec![
        ("address", s(IDL_ADDRESS)),
        (
            "metadata",
            J::Obj(vec![
                ("name", s(env!("CARGO_PKG_NAME"))),
                ("version", s(env!("CARGO_PKG_VERSION"))),
                ("spec", s("0.1.0")),
                ("description", s(env!("CARGO_PKG_DESCRIPTION"))),
            ]),
        ),
        ("instructions", J::Arr(instructions)),
        ("accounts", J::Arr(accounts)),
        ("events", J::Arr(events)),
        ("errors", J::Arr(errors)),
        ("types", J::Arr(types)),
    ]);
    let mut out = String::new();
    write_json(&mut out, &idl, 0);
    out.push('\n');
    out
}

/// Every type known to the IDL, accounts included, for size lookups.
fn all_types() -> Vec<TypeDef> {
    let mut all: Vec<TypeDef> = vec![];
    for a in ACCOUNTS {
        let fields: Vec<IdlField> = a.fields.iter().map(|f| IdlField { name: f.field.name, docs: f.field.docs, ty: f.field.ty }).collect();
        all.push(TypeDef { name: a.name, docs: a.docs, fields: Box::leak(fields.into_boxed_slice()) });
    }
    for t in TYPES.iter().chain(EVENTS.iter().map(|(t, _)| t)) {
        all.push(TypeDef { name: t.name, docs: t.docs, fields: t.fields });
    }
    all
}

#[test]
fn idl_is_generated_from_the_code() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("idl/quantdesk_perp.json");
    let generated = generate();
    if std::env::var("QD_WRITE_IDL").as_deref() == Ok("1") {
        std::fs::write(&path, &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "{} differs from what the code declares: regenerate it with `node programs/sbpf/build.mjs idl`",
        path.display()
    );
}

/// The zero-copy layouts are exactly their Borsh description: fields back to back in IDL order,
/// no padding, the declared length; so the IDL's coder reads what the program writes.
#[test]
fn layouts_are_their_borsh_encoding() {
    let types = all_types();
    for a in ACCOUNTS {
        let mut offset = 8;
        for f in a.fields {
            assert_eq!(f.offset, offset, "{}.{} offset", a.name, f.field.name);
            offset += f.field.ty.size(&types);
        }
        assert_eq!(offset, a.len, "{} size", a.name);
    }
}

#[test]
fn names_and_references_are_consistent() {
    let types = all_types();
    let mut names: Vec<&str> = INSTRUCTIONS.iter().map(|i| i.name).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), INSTRUCTIONS.len(), "instruction names repeat");
    let mut discriminators: Vec<u64> = INSTRUCTIONS.iter().map(|i| i.discriminator).collect();
    discriminators.sort();
    discriminators.dedup();
    assert_eq!(discriminators.len(), INSTRUCTIONS.len(), "instruction discriminators collide");
    for ix in INSTRUCTIONS {
        for f in ix.args {
            if let IdlType::Defined(n) | IdlType::Vec(n) = f.ty {
                find_type(&types, n);
            }
        }
        let optional: Vec<bool> = ix.accounts.iter().map(|a| a.optional).collect();
        assert!(optional.windows(2).all(|w| w[0] <= w[1]), "{}: optional accounts come last", ix.name);
    }
    for t in &types {
        for f in t.fields {
            if let IdlType::Defined(n) | IdlType::Vec(n) = f.ty {
                find_type(&types, n);
            }
        }
    }
    assert_eq!(base58(&crate::ids::TOKEN_PROGRAM_ID), "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
    assert_eq!(base58(&crate::ids::SYSTEM_PROGRAM_ID), "11111111111111111111111111111111");
}
