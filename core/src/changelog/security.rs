//! Security in the diff: which credential alternatives an operation accepts, and the
//! security schemes they name. A caller breaks when nothing it could present still works.

use super::{Ctx, Differ};
use crate::openapi::pointer::{child, follow};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

type Alternatives = BTreeSet<BTreeMap<String, BTreeSet<String>>>;

/// The security alternatives an operation accepts; `{}` is "no credentials".
fn alternatives(doc: &Value, op: &Value) -> Alternatives {
    let requirements = op.get("security").or_else(|| doc.get("security"));
    let Some(list) = requirements.and_then(Value::as_array) else {
        return [BTreeMap::new()].into_iter().collect();
    };
    if list.is_empty() {
        return [BTreeMap::new()].into_iter().collect();
    }
    list.iter()
        .filter_map(Value::as_object)
        .map(|req| {
            req.iter()
                .map(|(name, scopes)| {
                    let scopes = scopes
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect();
                    (name.clone(), scopes)
                })
                .collect()
        })
        .collect()
}

fn describe(alt: &BTreeMap<String, BTreeSet<String>>) -> String {
    if alt.is_empty() {
        return "no credentials".into();
    }
    let parts: Vec<String> = alt
        .iter()
        .map(|(k, s)| {
            if s.is_empty() {
                k.clone()
            } else {
                format!("{k} [{}]", s.iter().cloned().collect::<Vec<_>>().join(", "))
            }
        })
        .collect();
    parts.join(" + ")
}

pub(super) fn diff_security(
    d: &mut Differ<'_>,
    ctx: &Ctx,
    old_op: &Value,
    new_op: &Value,
    at: &str,
) {
    let (old, new) = (alternatives(d.old, old_op), alternatives(d.new, new_op));
    let here = Ctx {
        operation: ctx.operation.clone(),
        place: "security".into(),
    };
    // A caller presenting `had` still gets in if some new alternative asks for no more.
    let still_ok = |had: &BTreeMap<String, BTreeSet<String>>| {
        new.iter().any(|alt| {
            alt.iter()
                .all(|(scheme, scopes)| had.get(scheme).is_some_and(|h| scopes.is_subset(h)))
        })
    };
    for gone in old.difference(&new).filter(|a| !still_ok(a)) {
        d.push(
            "security-changed",
            true,
            &here,
            "",
            at,
            format!(
                "calls authenticated with {} are no longer accepted",
                describe(gone)
            ),
        );
    }
    for added in new.difference(&old) {
        d.push(
            "security-alternative-added",
            false,
            &here,
            "",
            at,
            format!("calls may now authenticate with {}", describe(added)),
        );
    }
}

/// Document-wide: a security scheme removed or redefined breaks every caller using it.
pub(super) fn diff_security_schemes(d: &mut Differ<'_>) {
    let schemes = |doc: &Value| -> HashMap<String, Value> {
        doc.pointer("/components/securitySchemes")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), follow(doc, v).unwrap_or(v).clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (old, new) = (schemes(d.old), schemes(d.new));
    let mut names: Vec<&String> = old.keys().collect();
    names.sort();
    for name in names {
        let at = child("/components/securitySchemes", name);
        let ctx = super::operations::doc_ctx(&format!("security scheme `{name}`"));
        match new.get(name) {
            None => d.push(
                "security-scheme-removed",
                true,
                &ctx,
                "",
                &at,
                format!("security scheme `{name}` was removed"),
            ),
            Some(n) => {
                for key in [
                    "type",
                    "in",
                    "name",
                    "scheme",
                    "bearerFormat",
                    "openIdConnectUrl",
                ] {
                    if old[name].get(key) != n.get(key) {
                        d.push(
                            "security-scheme-changed",
                            true,
                            &ctx,
                            "",
                            &at,
                            format!("security scheme `{name}`: `{key}` changed"),
                        );
                    }
                }
            }
        }
    }
}
