//! The schema half of the diff: types, formats, enums, constraints, properties, items and
//! compositions, judged by direction (what a client sends must not narrow; what it
//! receives must not widen or lose fields). Recursion is bounded by depth and each pair of
//! resolved schemas is visited once per direction, so `$ref` cycles end.

use super::schema_rules::{covered, required, types};
use super::{Ctx, Differ, Direction};
use crate::openapi::pointer::{child, ref_of, resolve};
use serde_json::Value;
use std::collections::BTreeSet;

/// Deepest schema nesting compared.
pub const MAX_SCHEMA_DEPTH: usize = 64;

/// Where a schema node sits: its exact pointer once known through a `$ref`, otherwise
/// the operation's pointer.
#[derive(Clone)]
enum Where<'p> {
    Operation(&'p str),
    Exact(String),
}

impl Where<'_> {
    fn pointer(&self) -> &str {
        match self {
            Where::Operation(p) => p,
            Where::Exact(p) => p,
        }
    }

    fn down(&self, tokens: &[&str]) -> Where<'_> {
        match self {
            Where::Operation(p) => Where::Operation(p),
            Where::Exact(p) => Where::Exact(tokens.iter().fold(p.clone(), |acc, t| child(&acc, t))),
        }
    }
}

/// Follows `$ref`s, returning the node and, when one was followed, its pointer.
fn deref<'a>(doc: &'a Value, mut value: &'a Value) -> Option<(&'a Value, Option<String>)> {
    let mut pointer = None;
    for _ in 0..crate::openapi::pointer::MAX_REF_HOPS {
        match ref_of(value) {
            Some(r) => {
                value = resolve(doc, r).ok()?;
                pointer = Some(r.trim_start_matches('#').to_owned());
            }
            None => return Some((value, pointer)),
        }
    }
    None
}

impl Differ<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn schema(
        &mut self,
        old: &Value,
        new: &Value,
        dir: Direction,
        ctx: &Ctx,
        path: &str,
        at: &str,
        depth: usize,
    ) {
        self.schema_at(old, new, dir, ctx, path, &Where::Operation(at), depth);
    }

    #[allow(clippy::too_many_arguments)]
    fn schema_at(
        &mut self,
        old: &Value,
        new: &Value,
        dir: Direction,
        ctx: &Ctx,
        path: &str,
        at: &Where<'_>,
        depth: usize,
    ) {
        if depth > MAX_SCHEMA_DEPTH {
            return;
        }
        let (Some((old, _)), Some((new, new_ptr))) = (deref(self.old, old), deref(self.new, new))
        else {
            return;
        };
        if !self.seen.insert((
            old as *const Value as usize,
            new as *const Value as usize,
            dir,
        )) {
            return;
        }
        let here = new_ptr.map_or_else(|| at.clone(), Where::Exact);
        let at = &here;
        let loc = |p: &str| {
            if p.is_empty() {
                String::new()
            } else {
                format!(" {}", p.trim_start_matches(' '))
            }
        };
        let request = dir == Direction::Request;
        let (ot, nt) = (types(old), types(new));
        if !ot.is_empty() && !nt.is_empty() && ot != nt {
            let breaking = if request {
                !covered(&ot, &nt)
            } else {
                !covered(&nt, &ot)
            };
            let show = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join("|");
            self.push(
                "type-changed",
                breaking,
                ctx,
                &loc(path),
                at.pointer(),
                format!("type changed from {} to {}", show(&ot), show(&nt)),
            );
        }
        let (of, nf) = (
            old.get("format").and_then(Value::as_str),
            new.get("format").and_then(Value::as_str),
        );
        if of != nf {
            let breaking = match (of, nf) {
                (Some(_), Some(_)) => true,
                (None, Some(_)) => request,
                _ => !request,
            };
            self.push(
                "format-changed",
                breaking,
                ctx,
                &loc(path),
                at.pointer(),
                format!(
                    "format changed from {} to {}",
                    of.unwrap_or("none"),
                    nf.unwrap_or("none")
                ),
            );
        }
        self.enums(old, new, request, ctx, &loc(path), at.pointer());
        if request {
            self.constraints(old, new, ctx, &loc(path), at.pointer());
        }
        self.properties(old, new, dir, ctx, path, at, depth);
        if let (Some(o), Some(n)) = (old.get("items"), new.get("items")) {
            self.schema_at(
                o,
                n,
                dir,
                ctx,
                &format!("{path}[]"),
                &at.down(&["items"]),
                depth + 1,
            );
        }
        if let (Some(o @ Value::Object(_)), Some(n @ Value::Object(_))) = (
            old.get("additionalProperties"),
            new.get("additionalProperties"),
        ) {
            self.schema_at(
                o,
                n,
                dir,
                ctx,
                &format!("{path}.*"),
                &at.down(&["additionalProperties"]),
                depth + 1,
            );
        }
        if request
            && old.get("additionalProperties") != Some(&Value::Bool(false))
            && new.get("additionalProperties") == Some(&Value::Bool(false))
        {
            self.push(
                "additional-properties-forbidden",
                true,
                ctx,
                &loc(path),
                at.pointer(),
                "members not listed in `properties` are no longer accepted".into(),
            );
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            self.composition(key, old, new, dir, ctx, path, at, depth);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn properties(
        &mut self,
        old: &Value,
        new: &Value,
        dir: Direction,
        ctx: &Ctx,
        path: &str,
        at: &Where<'_>,
        depth: usize,
    ) {
        let empty = serde_json::Map::new();
        let op = old
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let np = new
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let (or, nr) = (required(old), required(new));
        let request = dir == Direction::Request;
        let skip = |doc: &Value, s: &Value| {
            let s = deref(doc, s).map_or(s, |(s, _)| s);
            if request {
                s.get("readOnly") == Some(&Value::Bool(true))
            } else {
                s.get("writeOnly") == Some(&Value::Bool(true))
            }
        };
        for (name, o) in op {
            let field = format!("{path}.{name}");
            let field_at = at.down(&["properties", name]);
            let label = format!(" {}", field.trim_start_matches(' '));
            match np.get(name) {
                None if skip(self.old, o) => {}
                None => {
                    let code = if request {
                        "property-removed"
                    } else {
                        "response-property-removed"
                    };
                    self.push(
                        code,
                        true,
                        ctx,
                        &label,
                        field_at.pointer(),
                        format!("`{name}` was removed"),
                    );
                }
                Some(n) => {
                    if skip(self.new, n) {
                        continue;
                    }
                    match (or.contains(name.as_str()), nr.contains(name.as_str())) {
                        (false, true) => self.push(
                            "property-became-required",
                            request,
                            ctx,
                            &label,
                            field_at.pointer(),
                            format!("`{name}` is now required"),
                        ),
                        (true, false) => self.push(
                            "property-became-optional",
                            !request,
                            ctx,
                            &label,
                            field_at.pointer(),
                            format!("`{name}` is now optional"),
                        ),
                        _ => {}
                    }
                    self.schema_at(o, n, dir, ctx, &field, &field_at, depth + 1);
                }
            }
        }
        for (name, n) in np.iter().filter(|(k, _)| !op.contains_key(*k)) {
            if skip(self.new, n) {
                continue;
            }
            let field = format!("{path}.{name}");
            let label = format!(" {}", field.trim_start_matches(' '));
            let pointer = at.down(&["properties", name]);
            let required = request && nr.contains(name.as_str());
            let code = if required {
                "property-added-required"
            } else {
                "property-added"
            };
            self.push(
                code,
                required,
                ctx,
                &label,
                pointer.pointer(),
                format!(
                    "`{name}` was added{}",
                    if required { " as required" } else { "" }
                ),
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn composition(
        &mut self,
        key: &str,
        old: &Value,
        new: &Value,
        dir: Direction,
        ctx: &Ctx,
        path: &str,
        at: &Where<'_>,
        depth: usize,
    ) {
        let (Some(o), Some(n)) = (
            old.get(key).and_then(Value::as_array),
            new.get(key).and_then(Value::as_array),
        ) else {
            return;
        };
        for (i, (os, ns)) in o.iter().zip(n).enumerate() {
            self.schema_at(
                os,
                ns,
                dir,
                ctx,
                path,
                &at.down(&[key, &i.to_string()]),
                depth + 1,
            );
        }
        let loc = if path.is_empty() {
            String::new()
        } else {
            format!(" {}", path.trim_start_matches(' '))
        };
        let request = dir == Direction::Request;
        if o.len() > n.len() {
            // Fewer alternatives narrow what is accepted; fewer `allOf` parts loosen it.
            let breaking = if key == "allOf" { !request } else { request };
            self.push(
                "alternative-removed",
                breaking,
                ctx,
                &loc,
                at.pointer(),
                format!("`{key}` lost {} member(s)", o.len() - n.len()),
            );
        } else if n.len() > o.len() {
            let breaking = if key == "allOf" { request } else { !request };
            self.push(
                "alternative-added",
                breaking,
                ctx,
                &loc,
                at.pointer(),
                format!("`{key}` gained {} member(s)", n.len() - o.len()),
            );
        }
    }
}
