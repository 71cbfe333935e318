//! Checking a JSON value against a compiled [`Schema`] arena, collecting violations with
//! their pointers. Bounded by the caller's violation limit and a shared step budget, so a
//! hostile body or an `anyOf` fan-out cannot make one request expensive.

use super::formats::check_format;
use super::numbers::{json_equal, number};
use super::schema::{types, Schema, SchemaId};
use super::{Violation, MAX_DEPTH};
use crate::openapi::pointer::escape;
use serde_json::Value;

/// Compiled patterns, indexed like the arena (`None`: no pattern).
pub type Patterns = [Option<regex_lite::Regex>];

/// Where violations go.
pub struct Sink {
    pub found: Vec<Violation>,
    /// Stop after this many (1 for "is it valid at all?").
    pub limit: usize,
}

impl Sink {
    fn full(&self) -> bool {
        self.found.len() >= self.limit
    }

    pub(super) fn push(&mut self, pointer: &str, reason: String) {
        if !self.full() {
            self.found.push(Violation {
                pointer: pointer.to_owned(),
                reason,
            });
        }
    }
}

/// One check's context: the arena, its patterns and the remaining step budget.
pub struct Checker<'a> {
    pub schemas: &'a [Schema],
    pub patterns: &'a Patterns,
    pub steps: usize,
}

fn type_of(value: &Value) -> u8 {
    match value {
        Value::Null => types::NULL,
        Value::Bool(_) => types::BOOLEAN,
        Value::Number(n) if is_integer(n) => types::INTEGER | types::NUMBER,
        Value::Number(_) => types::NUMBER,
        Value::String(_) => types::STRING,
        Value::Array(_) => types::ARRAY,
        Value::Object(_) => types::OBJECT,
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if is_integer(n) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn is_integer(n: &serde_json::Number) -> bool {
    n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
}

fn show(value: &Value) -> String {
    let text = value.to_string();
    if text.len() > 40 {
        let mut cut = 37;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}...", &text[..cut])
    } else {
        text
    }
}

impl Checker<'_> {
    /// Whether `value` matches schema `id`, without recording why not.
    pub fn valid(&mut self, id: SchemaId, value: &Value, depth: usize) -> bool {
        let mut sink = Sink {
            found: Vec::new(),
            limit: 1,
        };
        let mut at = String::new();
        self.check(id, value, &mut at, depth, &mut sink);
        sink.found.is_empty()
    }

    /// Records every way `value` (at pointer `at`) does not match schema `id`.
    pub fn check(
        &mut self,
        id: SchemaId,
        value: &Value,
        at: &mut String,
        depth: usize,
        sink: &mut Sink,
    ) {
        if sink.full() {
            return;
        }
        if self.steps == 0 {
            sink.push(at, "the request is too complex to validate".into());
            return;
        }
        self.steps -= 1;
        if depth > MAX_DEPTH {
            sink.push(at, format!("nests deeper than {MAX_DEPTH} levels"));
            return;
        }
        let Some(s) = self.schemas.get(id as usize) else {
            return;
        };
        if s.never {
            sink.push(at, "is not allowed here".into());
            return;
        }
        if s.types != 0 && s.types & type_of(value) == 0 {
            sink.push(
                at,
                format!(
                    "must be {}, not {}",
                    types::names(s.types),
                    type_name(value)
                ),
            );
            return;
        }
        if let Some(allowed) = &s.enumeration {
            if !allowed.iter().any(|a| json_equal(a, value)) {
                let shown: Vec<String> = allowed.iter().take(10).map(show).collect();
                sink.push(at, format!("must be one of {}", shown.join(", ")));
            }
        }
        match value {
            Value::String(text) => self.string(id, s, text, at, sink),
            Value::Number(n) => number(s, n, at, sink),
            Value::Array(items) => self.array(s, items, at, depth, sink),
            Value::Object(map) => self.object(s, map, at, depth, sink),
            _ => {}
        }
        self.combinators(s, value, at, depth, sink);
    }

    fn string(&mut self, id: SchemaId, s: &Schema, text: &str, at: &str, sink: &mut Sink) {
        let chars = || text.chars().count() as u64;
        if s.min_length.is_some_and(|min| chars() < min) {
            sink.push(
                at,
                format!(
                    "must be at least {} characters long",
                    s.min_length.unwrap_or_default()
                ),
            );
        }
        if s.max_length.is_some_and(|max| chars() > max) {
            sink.push(
                at,
                format!(
                    "must be at most {} characters long",
                    s.max_length.unwrap_or_default()
                ),
            );
        }
        if let Some(Some(re)) = self.patterns.get(id as usize) {
            if !re.is_match(text) {
                sink.push(at, format!("must match the pattern `{}`", re.as_str()));
            }
        }
        if let Some(format) = s.format {
            if let Err(reason) = check_format(format, &Value::String(text.to_owned())) {
                sink.push(at, reason);
            }
        }
    }

    fn array(
        &mut self,
        s: &Schema,
        items: &[Value],
        at: &mut String,
        depth: usize,
        sink: &mut Sink,
    ) {
        let n = items.len() as u64;
        if s.min_items.is_some_and(|min| n < min) {
            sink.push(
                at,
                format!(
                    "must have at least {} items",
                    s.min_items.unwrap_or_default()
                ),
            );
        }
        if s.max_items.is_some_and(|max| n > max) {
            sink.push(
                at,
                format!(
                    "must have at most {} items",
                    s.max_items.unwrap_or_default()
                ),
            );
        }
        if s.unique_items && items.len() <= 1_000 {
            let dup =
                (1..items.len()).find(|&i| items[..i].iter().any(|a| json_equal(a, &items[i])));
            if let Some(i) = dup {
                sink.push(
                    at,
                    format!("must have unique items; item {i} repeats an earlier one"),
                );
            }
        }
        if let Some(item) = s.items {
            for (i, v) in items.iter().enumerate() {
                if sink.full() {
                    return;
                }
                let len = at.len();
                at.push('/');
                at.push_str(&i.to_string());
                self.check(item, v, at, depth + 1, sink);
                at.truncate(len);
            }
        }
    }

    fn object(
        &mut self,
        s: &Schema,
        map: &serde_json::Map<String, Value>,
        at: &mut String,
        depth: usize,
        sink: &mut Sink,
    ) {
        let n = map.len() as u64;
        if s.min_properties.is_some_and(|min| n < min) {
            sink.push(
                at,
                format!(
                    "must have at least {} members",
                    s.min_properties.unwrap_or_default()
                ),
            );
        }
        if s.max_properties.is_some_and(|max| n > max) {
            sink.push(
                at,
                format!(
                    "must have at most {} members",
                    s.max_properties.unwrap_or_default()
                ),
            );
        }
        for name in &s.required {
            if !map.contains_key(name) {
                sink.push(&format!("{at}/{}", escape(name)), "is required".into());
            }
        }
        for (name, v) in map {
            if sink.full() {
                return;
            }
            let declared = s
                .properties
                .iter()
                .find(|(p, _)| p == name)
                .map(|(_, id)| *id);
            let Some(id) = declared.or(s.additional) else {
                continue;
            };
            let len = at.len();
            at.push('/');
            at.push_str(&escape(name));
            if declared.is_none() && id == super::schema::NEVER {
                sink.push(at, "is not a member the specification allows".into());
            } else {
                self.check(id, v, at, depth + 1, sink);
            }
            at.truncate(len);
        }
    }

    fn combinators(
        &mut self,
        s: &Schema,
        value: &Value,
        at: &mut String,
        depth: usize,
        sink: &mut Sink,
    ) {
        for &id in &s.all_of {
            self.check(id, value, at, depth + 1, sink);
        }
        if !s.any_of.is_empty() && !s.any_of.iter().any(|&id| self.valid(id, value, depth + 1)) {
            sink.push(
                at,
                format!(
                    "must match at least one of {} alternatives (anyOf)",
                    s.any_of.len()
                ),
            );
        }
        if !s.one_of.is_empty() {
            let matched = s
                .one_of
                .iter()
                .filter(|&&id| self.valid(id, value, depth + 1))
                .count();
            if matched != 1 {
                sink.push(
                    at,
                    format!(
                        "must match exactly one of {} alternatives (oneOf); it matches {matched}",
                        s.one_of.len()
                    ),
                );
            }
        }
        if let Some(not) = s.not {
            if self.valid(not, value, depth + 1) {
                sink.push(at, "must not match the schema in `not`".into());
            }
        }
    }
}
