//! Compiling OpenAPI 3.0 / 3.1 schema objects into the [`Schema`] arena. Local `$ref`s
//! are compiled once and shared (so cycles become back-references); inline nesting is
//! bounded by [`MAX_DEPTH`](super::MAX_DEPTH) and the arena by [`MAX_SCHEMAS`].

use super::schema::{types, Format, Schema, SchemaId, ANY, NEVER};
use super::MAX_DEPTH;
use crate::openapi::pointer::{child, ref_of, resolve};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Most schemas one document may compile to (bounds snapshot size and edge memory).
pub const MAX_SCHEMAS: usize = 20_000;
/// Longest `pattern` accepted, and the compiled-program size limit given to `regex`.
pub const MAX_PATTERN_LEN: usize = 1_000;
/// Memory a compiled pattern may use.
pub const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// Compiles a pattern the way the edge will (same limits).
pub fn compile_pattern(pattern: &str) -> Result<regex_lite::Regex, String> {
    if pattern.len() > MAX_PATTERN_LEN {
        return Err(format!("a pattern is limited to {MAX_PATTERN_LEN} bytes"));
    }
    regex_lite::RegexBuilder::new(pattern)
        .size_limit(PATTERN_SIZE_LIMIT)
        .build()
        .map_err(|e| {
            let first = e.to_string();
            let line = first.lines().last().unwrap_or_default().trim().to_owned();
            format!("the pattern is not supported ({line}); tollgate uses a linear-time engine without look-around or back-references")
        })
}

/// One problem found while compiling, located by JSON pointer into the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaIssue {
    pub pointer: String,
    pub message: String,
}

/// Builds the arena for one document.
pub struct SchemaCompiler<'a> {
    doc: &'a Value,
    /// OpenAPI 3.1 (JSON Schema 2020-12: `$ref` siblings, numeric exclusive bounds).
    v31: bool,
    pub schemas: Vec<Schema>,
    by_ref: HashMap<String, SchemaId>,
    pub issues: Vec<SchemaIssue>,
}

impl<'a> SchemaCompiler<'a> {
    /// An arena holding [`ANY`] and [`NEVER`].
    pub fn new(doc: &'a Value) -> SchemaCompiler<'a> {
        let v31 = doc
            .get("openapi")
            .and_then(Value::as_str)
            .is_some_and(|v| v.starts_with("3.1"));
        let never = Schema {
            never: true,
            ..Schema::default()
        };
        SchemaCompiler {
            doc,
            v31,
            schemas: vec![Schema::default(), never],
            by_ref: HashMap::new(),
            issues: Vec::new(),
        }
    }

    fn issue(&mut self, pointer: &str, message: impl Into<String>) {
        if self.issues.len() < 200 {
            self.issues.push(SchemaIssue {
                pointer: pointer.to_owned(),
                message: message.into(),
            });
        }
    }

    fn push(&mut self, schema: Schema) -> SchemaId {
        if schema.is_any() {
            return ANY;
        }
        self.schemas.push(schema);
        SchemaId::try_from(self.schemas.len() - 1).unwrap_or(ANY)
    }

    /// Compiles the schema object at `value` (found at pointer `at`).
    pub fn compile(&mut self, value: &'a Value, at: &str, depth: usize) -> SchemaId {
        if depth > MAX_DEPTH {
            self.issue(at, format!("schemas nest deeper than {MAX_DEPTH} levels"));
            return ANY;
        }
        if self.schemas.len() >= MAX_SCHEMAS {
            self.issue(at, format!("the document compiles to more than {MAX_SCHEMAS} schemas; validation of it is refused"));
            return ANY;
        }
        let obj = match value {
            Value::Bool(true) => return ANY,
            Value::Bool(false) => return NEVER,
            Value::Object(obj) => obj,
            _ => {
                self.issue(at, "a schema must be an object");
                return ANY;
            }
        };
        if let Some(reference) = ref_of(value) {
            let target = self.reference(reference, at, depth);
            let siblings = obj.keys().any(|k| k != "$ref" && !is_annotation(k));
            if !(self.v31 && siblings) {
                return target;
            }
            let mut rest = self.build(obj, at, depth);
            rest.all_of.push(target);
            return self.push(rest);
        }
        let schema = self.build(obj, at, depth);
        self.push(schema)
    }

    fn reference(&mut self, reference: &str, at: &str, depth: usize) -> SchemaId {
        if let Some(&id) = self.by_ref.get(reference) {
            return id;
        }
        let target = match resolve(self.doc, reference) {
            Ok(t) => t,
            Err(e) => {
                self.issue(&child(at, "$ref"), e.to_string());
                return ANY;
            }
        };
        // Reserve the slot first: a schema that refers back to itself finds it.
        self.schemas.push(Schema::default());
        let id = SchemaId::try_from(self.schemas.len() - 1).unwrap_or(ANY);
        self.by_ref.insert(reference.to_owned(), id);
        let target_at = reference.trim_start_matches('#').to_owned();
        let compiled = match target {
            Value::Object(obj) if ref_of(target).is_none() => {
                self.build(obj, &target_at, depth + 1)
            }
            other => {
                let inner = self.compile(other, &target_at, depth + 1);
                Schema {
                    all_of: vec![inner],
                    ..Schema::default()
                }
            }
        };
        if let Some(slot) = self.schemas.get_mut(id as usize) {
            *slot = compiled;
        }
        id
    }

    fn sub(
        &mut self,
        obj: &'a Map<String, Value>,
        at: &str,
        key: &str,
        depth: usize,
    ) -> Option<SchemaId> {
        obj.get(key)
            .map(|v| self.compile(v, &child(at, key), depth + 1))
    }

    fn list(
        &mut self,
        obj: &'a Map<String, Value>,
        at: &str,
        key: &str,
        depth: usize,
    ) -> Vec<SchemaId> {
        let Some(items) = obj.get(key) else {
            return Vec::new();
        };
        let here = child(at, key);
        let Some(items) = items.as_array() else {
            self.issue(&here, "must be an array of schemas");
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .map(|(i, v)| self.compile(v, &child(&here, &i.to_string()), depth + 1))
            .collect()
    }

    fn build(&mut self, obj: &'a Map<String, Value>, at: &str, depth: usize) -> Schema {
        let mut s = Schema {
            types: self.types(obj, at),
            ..Schema::default()
        };
        if obj.get("nullable") == Some(&Value::Bool(true)) && s.types != 0 {
            s.types |= types::NULL;
        }
        if let Some(values) = obj.get("enum") {
            match values.as_array() {
                Some(values) => s.enumeration = Some(values.clone()),
                None => self.issue(&child(at, "enum"), "must be an array"),
            }
        }
        if let Some(value) = obj.get("const") {
            s.enumeration = Some(vec![value.clone()]);
        }
        if let Some(req) = obj.get("required").and_then(Value::as_array) {
            s.required = req
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
        }
        if let Some(props) = obj.get("properties").and_then(Value::as_object) {
            let here = child(at, "properties");
            for (name, v) in props {
                let id = self.compile(v, &child(&here, name), depth + 1);
                s.properties.push((name.clone(), id));
            }
        }
        s.additional = self.sub(obj, at, "additionalProperties", depth);
        s.items = match obj.get("items") {
            Some(Value::Array(_)) => None, // draft-04 tuples: not checked
            _ => self.sub(obj, at, "items", depth),
        };
        let count = |k: &str| obj.get(k).and_then(Value::as_u64);
        s.min_properties = count("minProperties");
        s.max_properties = count("maxProperties");
        s.min_items = count("minItems");
        s.max_items = count("maxItems");
        s.min_length = count("minLength");
        s.max_length = count("maxLength");
        s.unique_items = obj.get("uniqueItems") == Some(&Value::Bool(true));
        if let Some(p) = obj.get("pattern").and_then(Value::as_str) {
            match compile_pattern(p) {
                Ok(_) => s.pattern = Some(p.to_owned()),
                Err(e) => self.issue(&child(at, "pattern"), e),
            }
        }
        let num = |k: &str| obj.get(k).and_then(Value::as_f64);
        s.minimum = num("minimum");
        s.maximum = num("maximum");
        match obj.get("exclusiveMinimum") {
            Some(Value::Bool(true)) => s.exclusive_minimum = s.minimum.take(),
            Some(v) => s.exclusive_minimum = v.as_f64(),
            None => {}
        }
        match obj.get("exclusiveMaximum") {
            Some(Value::Bool(true)) => s.exclusive_maximum = s.maximum.take(),
            Some(v) => s.exclusive_maximum = v.as_f64(),
            None => {}
        }
        s.multiple_of = num("multipleOf").filter(|m| *m > 0.0);
        s.format = obj
            .get("format")
            .and_then(Value::as_str)
            .and_then(Format::parse);
        s.all_of = self.list(obj, at, "allOf", depth);
        s.any_of = self.list(obj, at, "anyOf", depth);
        s.one_of = self.list(obj, at, "oneOf", depth);
        s.not = self.sub(obj, at, "not", depth);
        s
    }

    fn types(&mut self, obj: &Map<String, Value>, at: &str) -> u8 {
        let mut set = 0;
        let names: Vec<&Value> = match obj.get("type") {
            None => return 0,
            Some(Value::Array(list)) if self.v31 => list.iter().collect(),
            Some(v) => vec![v],
        };
        for name in names {
            match name.as_str().and_then(types::bit) {
                Some(bit) => set |= bit,
                None => self.issue(
                    &child(at, "type"),
                    format!("`{name}` is not a JSON Schema type"),
                ),
            }
        }
        set
    }
}

/// Keywords that never change what a schema accepts.
fn is_annotation(key: &str) -> bool {
    matches!(
        key,
        "description" | "summary" | "title" | "example" | "examples" | "deprecated" | "$comment"
    ) || key.starts_with("x-")
}
