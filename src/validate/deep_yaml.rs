//! YAML documents nested deeper than serde_yaml follows (its fixed 128 levels): read again
//! with saphyr-parser, whose parser keeps its states on a heap stack, and walked by a serde
//! `Deserializer` over its events, so the same `Part` checks them as for any document (the
//! walk grows the native stack itself, up to `MAX_DATA_DEPTH`).
//!
//! Scalars resolve exactly as serde_yaml 0.9 resolves them (its `visit_untagged_scalar` and
//! core tags), aliases replay their anchor's events with serde_yaml's repetition bound, and a
//! tag of one's own (`!x`) is an enum, which no part accepts, as with serde_yaml.

use std::collections::HashMap;
use std::fmt;
use std::num::ParseIntError;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};
use serde::de::{self, Unexpected, Visitor};

/// An error with its 1-based line and column, when it has one.
#[derive(Debug)]
pub(super) struct Error {
    pub what: String,
    pub at: Option<(usize, usize)>,
    /// The parser's bound on nested flow collections was met.
    pub flow_bound: bool,
}

/// Levels of flow collections (`[...]`, `{...}`) saphyr-parser follows (a `u8` counter).
pub(super) const FLOW_DEPTH: u32 = 255;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Error {
        Error {
            what: msg.to_string(),
            at: None,
            flow_bound: false,
        }
    }
}

fn at(span: &Span) -> Option<(usize, usize)> {
    Some((span.start.line(), span.start.col() + 1))
}

fn scan_error(err: &ScanError) -> Error {
    Error {
        what: err.info().to_string(),
        at: Some((err.marker().line(), err.marker().col() + 1)),
        flow_bound: err.info() == "recursion limit exceeded",
    }
}

/// The events of the one document of a stream, and where each anchor's node starts.
pub(super) struct Document<'a> {
    events: Vec<(Event<'a>, Span)>,
    anchors: HashMap<usize, usize>,
}

impl<'a> Document<'a> {
    pub fn load(text: &'a str) -> Result<Document<'a>, Error> {
        let mut events = Vec::new();
        let mut anchors = HashMap::new();
        let mut documents = 0;
        for next in Parser::new_from_str(text) {
            let (event, span) = next.map_err(|err| scan_error(&err))?;
            match event {
                Event::DocumentStart(_) => {
                    documents += 1;
                    if documents > 1 {
                        return Err(Error {
                            what: "deserializing from YAML containing more than one document is not supported".to_string(),
                            at: None,
                            flow_bound: false,
                        });
                    }
                    continue;
                }
                Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {
                    continue
                }
                Event::Scalar(_, _, anchor, _)
                | Event::SequenceStart(anchor, _)
                | Event::MappingStart(anchor, _)
                    if anchor > 0 =>
                {
                    anchors.insert(anchor, events.len());
                }
                _ => {}
            }
            events.push((event, span));
        }
        if events.is_empty() && !text.is_empty() {
            // A stream without a document is null to serde_yaml (its `Void`).
            events.push((Event::Nothing, Span::default()));
        }
        if events.is_empty() {
            return Err(Error {
                what: "EOF while parsing a value".to_string(),
                at: None,
                flow_bound: false,
            });
        }
        Ok(Document { events, anchors })
    }

    /// A deserializer for the whole document.
    pub fn deserializer(&self) -> De<'_, 'a> {
        De {
            doc: self,
            pos: 0,
            jumps: std::rc::Rc::new(std::cell::Cell::new(0)),
        }
    }
}

pub(super) struct De<'d, 'a> {
    doc: &'d Document<'a>,
    pos: usize,
    jumps: std::rc::Rc<std::cell::Cell<usize>>,
}

impl<'d, 'a> De<'d, 'a> {
    fn next(&mut self) -> Result<&'d (Event<'a>, Span), Error> {
        let doc = self.doc;
        let next = doc.events.get(self.pos).ok_or_else(|| Error {
            what: "EOF while parsing a value".to_string(),
            at: None,
            flow_bound: false,
        })?;
        self.pos += 1;
        Ok(next)
    }

    fn peek(&self) -> Option<&'d Event<'a>> {
        let doc = self.doc;
        doc.events.get(self.pos).map(|(event, _)| event)
    }

    /// A deserializer at an alias's anchor (serde_yaml's `jump`, with its bound).
    fn jump(&self, anchor: usize, span: &Span) -> Result<De<'d, 'a>, Error> {
        self.jumps.set(self.jumps.get() + 1);
        if self.jumps.get() > self.doc.events.len() * 100 {
            return Err(Error {
                what: "repetition limit exceeded".to_string(),
                at: at(span),
                flow_bound: false,
            });
        }
        let pos = *self.doc.anchors.get(&anchor).ok_or_else(|| Error {
            what: "unknown anchor".to_string(),
            at: at(span),
            flow_bound: false,
        })?;
        Ok(De {
            doc: self.doc,
            pos,
            jumps: self.jumps.clone(),
        })
    }

    /// Skips one node without recursing.
    fn ignore_any(&mut self) -> Result<(), Error> {
        let mut open = 0usize;
        loop {
            match &self.next()?.0 {
                Event::SequenceStart(..) | Event::MappingStart(..) => open += 1,
                Event::SequenceEnd | Event::MappingEnd => open = open.saturating_sub(1),
                _ => {}
            }
            if open == 0 {
                return Ok(());
            }
        }
    }

    /// Skips what a visitor left of a collection, and its end.
    fn finish(&mut self) -> Result<(), Error> {
        loop {
            match self.peek() {
                Some(Event::SequenceEnd | Event::MappingEnd) => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(_) => self.ignore_any()?,
                None => {
                    return Err(Error {
                        what: "EOF while parsing a value".to_string(),
                        at: None,
                        flow_bound: false,
                    })
                }
            }
        }
    }
}

/// A tag as libyaml spells it: `tag:yaml.org,2002:int` for `!!int`, `!x` for `!x`.
fn tag_text(tag: &Option<std::borrow::Cow<'_, Tag>>) -> Option<String> {
    let tag = tag.as_ref()?;
    Some(format!("{}{}", tag.handle, tag.suffix))
}

/// serde_yaml's enum tags: a tag of one's own.
fn is_enum_tag(tag: &Option<String>) -> bool {
    matches!(tag, Some(tag) if tag.starts_with('!'))
}

const CORE: &str = "tag:yaml.org,2002:";

impl<'de> de::Deserializer<'de> for &mut De<'_, '_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let (event, span) = self.next()?;
        let result = match event {
            Event::Alias(anchor) => return self.jump(*anchor, span)?.deserialize_any(visitor),
            Event::Scalar(value, style, _, tag) => {
                let tag = tag_text(tag);
                if is_enum_tag(&tag) {
                    Err(de::Error::invalid_type(Unexpected::Enum, &visitor))
                } else {
                    visit_scalar(visitor, value, *style, tag.as_deref())
                }
            }
            Event::SequenceStart(_, tag) => {
                if is_enum_tag(&tag_text(tag)) {
                    Err(de::Error::invalid_type(Unexpected::Enum, &visitor))
                } else {
                    let value = visitor.visit_seq(Seq { de: &mut *self });
                    match value {
                        Ok(value) => self.finish().map(|()| value),
                        Err(err) => Err(err),
                    }
                }
            }
            Event::MappingStart(_, tag) => {
                if is_enum_tag(&tag_text(tag)) {
                    Err(de::Error::invalid_type(Unexpected::Enum, &visitor))
                } else {
                    let value = visitor.visit_map(Map { de: &mut *self });
                    match value {
                        Ok(value) => self.finish().map(|()| value),
                        Err(err) => Err(err),
                    }
                }
            }
            Event::Nothing => visitor.visit_none(),
            _ => Err(Error {
                what: "unexpected end of a collection".to_string(),
                at: None,
                flow_bound: false,
            }),
        };
        result.map_err(|mut err| {
            if err.at.is_none() {
                err.at = at(span);
            }
            err
        })
    }

    /// serde_yaml's: a scalar is its text, whatever it would resolve to (keys are read so).
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let (event, span) = self.next()?;
        let result = match event {
            Event::Scalar(value, ..) => visitor.visit_str(value),
            Event::Alias(anchor) => return self.jump(*anchor, span)?.deserialize_str(visitor),
            Event::SequenceStart(..) => Err(de::Error::invalid_type(Unexpected::Seq, &visitor)),
            Event::MappingStart(..) => Err(de::Error::invalid_type(Unexpected::Map, &visitor)),
            Event::Nothing => Err(Error {
                what: "EOF while parsing a value".to_string(),
                at: None,
                flow_bound: false,
            }),
            _ => Err(Error {
                what: "unexpected end of a collection".to_string(),
                at: None,
                flow_bound: false,
            }),
        };
        result.map_err(|mut err| {
            if err.at.is_none() {
                err.at = at(span);
            }
            err
        })
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.ignore_any()?;
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier
    }
}

struct Seq<'s, 'd, 'a> {
    de: &'s mut De<'d, 'a>,
}

impl<'de> de::SeqAccess<'de> for Seq<'_, '_, '_> {
    type Error = Error;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.de.peek() {
            Some(Event::SequenceEnd) | None => Ok(None),
            Some(_) => seed.deserialize(&mut *self.de).map(Some),
        }
    }
}

struct Map<'s, 'd, 'a> {
    de: &'s mut De<'d, 'a>,
}

impl<'de> de::MapAccess<'de> for Map<'_, '_, '_> {
    type Error = Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.de.peek() {
            Some(Event::MappingEnd) | None => Ok(None),
            Some(_) => seed.deserialize(&mut *self.de).map(Some),
        }
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        seed.deserialize(&mut *self.de)
    }
}

/// serde_yaml's `visit_scalar` (outside an enum).
fn visit_scalar<'de, V: Visitor<'de>>(
    visitor: V,
    v: &str,
    style: ScalarStyle,
    tag: Option<&str>,
) -> Result<V::Value, Error> {
    if let Some(tag) = tag.and_then(|tag| tag.strip_prefix(CORE)) {
        return match tag {
            "bool" => match parse_bool(v) {
                Some(b) => visitor.visit_bool(b),
                None => Err(de::Error::invalid_value(Unexpected::Str(v), &"a boolean")),
            },
            "int" => match visit_int(visitor, v) {
                Ok(result) => result,
                Err(_) => Err(de::Error::invalid_value(Unexpected::Str(v), &"an integer")),
            },
            "float" => match parse_f64(v) {
                Some(x) => visitor.visit_f64(x),
                None => Err(de::Error::invalid_value(Unexpected::Str(v), &"a float")),
            },
            "null" => match parse_null(v) {
                Some(()) => visitor.visit_unit(),
                None => Err(de::Error::invalid_value(Unexpected::Str(v), &"null")),
            },
            _ => visitor.visit_str(v),
        };
    }
    if tag.is_none() && style == ScalarStyle::Plain {
        return visit_untagged_scalar(visitor, v);
    }
    visitor.visit_str(v)
}

fn visit_untagged_scalar<'de, V: Visitor<'de>>(visitor: V, v: &str) -> Result<V::Value, Error> {
    if v.is_empty() || parse_null(v).is_some() {
        return visitor.visit_unit();
    }
    if let Some(b) = parse_bool(v) {
        return visitor.visit_bool(b);
    }
    let visitor = match visit_int(visitor, v) {
        Ok(result) => return result,
        Err(visitor) => visitor,
    };
    if !digits_but_not_number(v) {
        if let Some(x) = parse_f64(v) {
            return visitor.visit_f64(x);
        }
    }
    visitor.visit_str(v)
}

fn parse_null(v: &str) -> Option<()> {
    matches!(v, "null" | "Null" | "NULL" | "~").then_some(())
}

fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// The radix prefixes serde_yaml reads (`0x`, `0o`, `0b`).
const RADIXES: [(&str, u32); 3] = [("0x", 16), ("0o", 8), ("0b", 2)];

fn parse_unsigned_int<T>(v: &str, from: fn(&str, u32) -> Result<T, ParseIntError>) -> Option<T> {
    let unpositive = v.strip_prefix('+').unwrap_or(v);
    for (prefix, radix) in RADIXES {
        if let Some(rest) = unpositive.strip_prefix(prefix) {
            if rest.starts_with(['+', '-']) {
                return None;
            }
            if let Ok(int) = from(rest, radix) {
                return Some(int);
            }
        }
    }
    if unpositive.starts_with(['+', '-']) || digits_but_not_number(v) {
        return None;
    }
    from(unpositive, 10).ok()
}

fn parse_negative_int<T>(v: &str, from: fn(&str, u32) -> Result<T, ParseIntError>) -> Option<T> {
    for (prefix, radix) in RADIXES {
        if let Some(rest) = v.strip_prefix('-').and_then(|v| v.strip_prefix(prefix)) {
            if let Ok(int) = from(&format!("-{rest}"), radix) {
                return Some(int);
            }
        }
    }
    if digits_but_not_number(v) {
        return None;
    }
    from(v, 10).ok()
}

fn parse_f64(v: &str) -> Option<f64> {
    let unpositive = match v.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return None,
        Some(rest) => rest,
        None => v,
    };
    if let ".inf" | ".Inf" | ".INF" = unpositive {
        return Some(f64::INFINITY);
    }
    if let "-.inf" | "-.Inf" | "-.INF" = v {
        return Some(f64::NEG_INFINITY);
    }
    if let ".nan" | ".NaN" | ".NAN" = v {
        return Some(f64::NAN.copysign(1.0));
    }
    unpositive.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// Leading zeros followed by digits are a string (YAML 1.2).
fn digits_but_not_number(v: &str) -> bool {
    let v = v.strip_prefix(['-', '+']).unwrap_or(v);
    v.len() > 1 && v.starts_with('0') && v[1..].bytes().all(|b| b.is_ascii_digit())
}

fn visit_int<'de, V: Visitor<'de>>(visitor: V, v: &str) -> Result<Result<V::Value, Error>, V> {
    if let Some(int) = parse_unsigned_int(v, u64::from_str_radix) {
        return Ok(visitor.visit_u64(int));
    }
    if let Some(int) = parse_negative_int(v, i64::from_str_radix) {
        return Ok(visitor.visit_i64(int));
    }
    if let Some(int) = parse_unsigned_int(v, u128::from_str_radix) {
        return Ok(visitor.visit_u128(int));
    }
    if let Some(int) = parse_negative_int(v, i128::from_str_radix) {
        return Ok(visitor.visit_i128(int));
    }
    Err(visitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same document read by serde_yaml and by the events here; an error is its words
    /// (serde_yaml adds a path and a position to them).
    fn both(text: &str) -> (String, String) {
        let serde_yaml: Result<serde_json::Value, _> = serde_yaml::from_str(text);
        let ours = Document::load(text).and_then(|doc| {
            <serde_json::Value as serde::Deserialize>::deserialize(&mut doc.deserializer())
        });
        match (serde_yaml, ours) {
            (Err(theirs), Err(ours)) => {
                let theirs = theirs.to_string();
                let theirs = theirs.split(" at line ").next().unwrap_or_default();
                assert!(theirs.ends_with(&ours.what), "{theirs} / {}", ours.what);
                (String::new(), String::new())
            }
            (theirs, ours) => (format!("{theirs:?}"), format!("{ours:?}")),
        }
    }

    /// Scalars resolve as serde_yaml resolves them: null, booleans, integers in every radix
    /// and sign, beyond 64 bits, floats and the non-finite ones, strings that look like
    /// numbers, quoted and block scalars, core tags, anchors and aliases.
    #[test]
    fn scalars_resolve_as_serde_yaml_resolves_them() {
        let scalars = [
            "~",
            "null",
            "Null",
            "NULL",
            "",
            "nul",
            "true",
            "True",
            "TRUE",
            "false",
            "tRue",
            "yes",
            "no",
            "on",
            "0",
            "-0",
            "+0",
            "7",
            "+7",
            "-7",
            "007",
            "-007",
            "+-7",
            "0x1F",
            "-0x1F",
            "+0x1F",
            "0x-1",
            "0o17",
            "-0o17",
            "0b101",
            "-0b101",
            "0b2",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "1.5",
            "-1.5",
            "+1.5",
            "1e3",
            "1E-3",
            ".5",
            "5.",
            "-0.0",
            "1e400",
            ".inf",
            "-.inf",
            "+.inf",
            ".Inf",
            ".NaN",
            ".nan",
            ".NAN",
            "nan",
            "inf",
            "infinity",
            "1_000",
            "0.1.2",
            "'1'",
            "\"true\"",
            "'~'",
            "\"\"",
            "!!str 1",
            "!!int \"5\"",
            "!!float '1.5'",
            "!!bool \"true\"",
            "!!null ''",
            "x y",
            "é",
            "\"\\u00e9\\n\"",
            "'it''s'",
        ];
        for scalar in scalars {
            for text in [
                format!("{scalar}\n"),
                format!("- {scalar}\n"),
                format!("k: {scalar}\n"),
            ] {
                let (theirs, ours) = both(&text);
                assert_eq!(theirs, ours, "{text:?}");
            }
        }
        for text in [
            "a: &x [1, 2]\nb: *x\n",
            "a: &x 1\nb: *x\nc: *x\n",
            "k: |\n  block\n  text\n",
            "k: >\n  folded\n  text\n",
            "? [1, 2]\n: 3\n",
            "1: one\ntrue: yes\n~: nothing\n0x1F: hex\n!x k: tagged\n",
            "a: &k key\n*k : value\n",
            "[1]: list key\n",
            "- - - 1\n  - 2\n- {a: [x, y], b: {}}\n",
            "a: 1\na: 2\n",
            "- !!seq [1]\n- !!map {a: 1}\n",
        ] {
            let (theirs, ours) = both(text);
            assert_eq!(theirs, ours, "{text:?}");
        }
    }

    /// Errors: several documents and an empty stream have no position; syntax errors have a
    /// 1-based line and column.
    #[test]
    fn errors_have_one_based_positions_or_none() {
        let err = |text: &str| Document::load(text).err().expect("an error");
        assert!(err("a: 1\n---\nb: 2\n").at.is_none());
        assert!(err("").at.is_none());
        assert_eq!(err("a: 1\n  b: 2\n").at.map(|at| at.0), Some(2));
        assert!(err("a: *nope\n")
            .at
            .is_some_and(|(line, col)| line == 1 && col > 0));
        let deep_flow = format!("{}{}", "[".repeat(300), "]".repeat(300));
        assert!(err(&deep_flow).flow_bound);
    }
}
