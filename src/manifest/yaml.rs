//! The only call site of the YAML parser. A manifest is read into a tree of [`Node`]s that
//! keeps a byte span for every key and value, so every later check can point at the exact
//! place. Structure is checked afterwards (see `validate/`) rather than by serde derive,
//! because derive stops at the first unknown key or wrong type and users want every problem
//! in one run.
//!
//! Safety: the parser budget refuses alias bombs, very deep nesting and huge inputs before
//! they cost memory; YAML 1.1 booleans (`yes`, `on`) are not booleans here
//! (`strict_booleans`), and duplicate keys are a parse error.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A byte range in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub offset: usize,
    pub len: usize,
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> Self {
        (s.offset, s.len).into()
    }
}

/// A YAML value with the span of its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub span: Span,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys in document order, each with its own span.
    Map(Vec<(Node, Node)>),
}

impl Value {
    /// A short description for "expected X, found Y" messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// A budget that admits a 50,000-room x 10-invitee manifest (about 3.5 million parser
/// events and 1.7 million nodes) while still refusing alias bombs and deep nesting.
fn budget() -> Option<serde_saphyr::Budget> {
    serde_saphyr::budget! {
        max_events: 8_000_000,
        max_nodes: 4_000_000,
        max_depth: 32,
        max_aliases: 1_000,
        max_anchors: 1_000,
        max_documents: 1,
        max_total_scalar_bytes: 128 * 1024 * 1024,
    }
}

/// A YAML-level error (syntax, duplicate key, budget), with where it happened.
#[derive(Debug, Clone)]
pub struct ParseError {
    pub message: String,
    pub span: Option<Span>,
}

/// Parses one YAML document into a [`Node`] tree.
pub fn parse(text: &str) -> Result<Node, ParseError> {
    let options = serde_saphyr::options! {
        budget: budget(),
        strict_booleans: true,
        with_snippet: false,
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
    };
    serde_saphyr::from_str_with_options::<Node>(text, options).map_err(|err| {
        let span = err.location().and_then(|loc| {
            let s = loc.span();
            let offset = s.byte_offset()? as usize;
            let len = s.byte_len().unwrap_or(0) as usize;
            Some(Span { offset, len })
        });
        let span = span.or_else(|| {
            err.location()
                .filter(|l| l.line() > 0)
                .map(|l| line_col_to_span(text, l.line() as usize, l.column() as usize))
        });
        ParseError {
            message: clean_message(&err.to_string()),
            span,
        }
    })
}

/// Converts a 1-based line/column (in characters) to a byte span of length one.
fn line_col_to_span(text: &str, line: usize, column: usize) -> Span {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col_bytes: usize = l
                .chars()
                .take(column.saturating_sub(1))
                .map(char::len_utf8)
                .sum();
            return Span {
                offset: offset + col_bytes,
                len: 0,
            };
        }
        offset += l.len();
    }
    Span {
        offset: text.len(),
        len: 0,
    }
}

/// The parser's messages carry their own "at line X column Y" suffix; the diagnostic shows
/// the location itself, so keep only the sentence.
fn clean_message(message: &str) -> String {
    let first = message.lines().next().unwrap_or(message).trim();
    match first.find(" at line ") {
        Some(i) => first[..i].to_string(),
        None => first.to_string(),
    }
}

/// Nodes are read through serde-saphyr's span protocol (the one behind
/// `serde_saphyr::Spanned`): the deserializer answers the newtype `__yaml_spanned` with a
/// map of `{marker, value, referenced, defined}`. Every child records its own location and
/// the tree is built in one pass, without an intermediate copy.
///
/// Why not `Spanned<Value>` itself: its visitor reads the first field name into a `String`
/// to tell its own map from a user map, and that allocation per node, plus the generic
/// wrapper, was about a fifth of the parse time of a 10,000-room manifest. The span used is
/// the same (`referenced`, the use site), so diagnostics are unchanged; the tests in this
/// module and the diagnostic snapshots pin that down.
const SPANNED_NEWTYPE: &str = "__yaml_spanned";
const SPANNED_FIELDS: &[&str] = &[
    "__serde_saphyr_private_spanned",
    "value",
    "referenced",
    "defined",
];

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_newtype_struct(SPANNED_NEWTYPE, NodeVisitor)
    }
}

struct NodeVisitor;

/// The fields of the span protocol's map, named without allocating.
enum SpannedField {
    Marker,
    Value,
    Referenced,
    Other,
}

impl<'de> Deserialize<'de> for SpannedField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldVisitor;
        impl Visitor<'_> for FieldVisitor {
            type Value = SpannedField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a span field")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SpannedField, E> {
                Ok(match v {
                    "__serde_saphyr_private_spanned" => SpannedField::Marker,
                    "value" => SpannedField::Value,
                    "referenced" => SpannedField::Referenced,
                    _ => SpannedField::Other,
                })
            }
        }
        deserializer.deserialize_identifier(FieldVisitor)
    }
}

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_struct("Spanned", SPANNED_FIELDS, NodeVisitor)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        // Only serde-saphyr's synthesised map starts with the marker; anything else means the
        // protocol changed under us, which must not pass silently as span-less nodes.
        if !matches!(map.next_key::<SpannedField>()?, Some(SpannedField::Marker)) {
            return Err(de::Error::custom(
                "internal error: the YAML parser did not report a location",
            ));
        }
        map.next_value::<de::IgnoredAny>()?;
        let mut value = None;
        let mut span = None;
        while let Some(field) = map.next_key::<SpannedField>()? {
            match field {
                SpannedField::Value => value = Some(map.next_value::<Value>()?),
                SpannedField::Referenced => {
                    let s = map.next_value::<serde_saphyr::Location>()?.span();
                    span = Some(Span {
                        offset: s.byte_offset().unwrap_or(0) as usize,
                        len: s.byte_len().unwrap_or(0) as usize,
                    });
                }
                // `defined` (the anchor's site for aliases) is not used; read it to keep the
                // protocol's order intact.
                SpannedField::Marker | SpannedField::Other => {
                    map.next_value::<serde_saphyr::Location>()?;
                }
            }
        }
        Ok(Node {
            span: span.ok_or_else(|| de::Error::missing_field("referenced"))?,
            value: value.ok_or_else(|| de::Error::missing_field("value"))?,
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        Ok(i128::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Node>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at<'a>(text: &'a str, n: &Node) -> &'a str {
        &text[n.span.offset..n.span.offset + n.span.len]
    }

    #[test]
    fn nested_values_keep_their_spans() {
        let text = "version: 1\nrooms:\n  - title: \"A: b\"\n    invitees:\n      - email: x@y.z\n        access: yes\n";
        let root = parse(text).unwrap();
        let Value::Map(entries) = &root.value else {
            panic!()
        };
        assert_eq!(at(text, &entries[0].0), "version");
        let Value::Seq(rooms) = &entries[1].1.value else {
            panic!()
        };
        let Value::Map(room) = &rooms[0].value else {
            panic!()
        };
        assert_eq!(room[0].1.value, Value::Str("A: b".into()));
        assert_eq!(at(text, &room[0].1), "\"A: b\"");
        let Value::Seq(inv) = &room[1].1.value else {
            panic!()
        };
        let Value::Map(i0) = &inv[0].value else {
            panic!()
        };
        // `yes` is not a boolean under strict_booleans.
        assert_eq!(i0[1].1.value, Value::Str("yes".into()));
        assert_eq!(at(text, &i0[1].1), "yes");
    }

    #[test]
    fn duplicate_keys_are_located_errors() {
        let err = parse("version: 1\nversion: 2\n").unwrap_err();
        assert!(
            err.message.to_lowercase().contains("duplicate"),
            "{}",
            err.message
        );
        assert!(err.span.is_some());
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..12 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("b{}", i - 1)
            };
            text.push_str(&format!("b{i}: &b{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        assert!(parse(&text).is_err());
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = "[".repeat(500) + &"]".repeat(500);
        assert!(parse(&text).is_err());
    }
}
