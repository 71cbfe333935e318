//! Request bodies, media types and responses of one operation, for the diff; their
//! schemas go to `schema` with the right direction.

use super::{Ctx, Differ, Direction};
use crate::openapi::pointer::follow;
use serde_json::{Map, Value};

fn flag(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn content(doc: &Value, holder: Option<&Value>) -> Map<String, Value> {
    holder
        .map(|h| follow(doc, h).unwrap_or(h))
        .and_then(|h| h.get("content"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

pub(super) fn diff_request_body(
    d: &mut Differ<'_>,
    ctx: &Ctx,
    old: Option<&Value>,
    new: Option<&Value>,
    at: &str,
) {
    let here = Ctx {
        operation: ctx.operation.clone(),
        place: "request body".into(),
    };
    let req =
        |doc: &Value, b: Option<&Value>| b.map(|b| flag(follow(doc, b).unwrap_or(b), "required"));
    match (req(d.old, old), req(d.new, new)) {
        (None, None) => return,
        (None, Some(r)) => {
            let code = if r {
                "request-body-added-required"
            } else {
                "request-body-added"
            };
            return d.push(
                code,
                r,
                &here,
                "",
                at,
                format!(
                    "a request body was added{}",
                    if r { " as required" } else { "" }
                ),
            );
        }
        (Some(_), None) => {
            return d.push(
                "request-body-removed",
                true,
                &here,
                "",
                at,
                "the request body was removed".into(),
            )
        }
        (Some(false), Some(true)) => d.push(
            "request-body-became-required",
            true,
            &here,
            "",
            at,
            "the request body is now required".into(),
        ),
        _ => {}
    }
    let (old_c, new_c) = (content(d.old, old), content(d.new, new));
    diff_media(d, &here, &old_c, &new_c, Direction::Request, at);
}

fn diff_media(
    d: &mut Differ<'_>,
    ctx: &Ctx,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    dir: Direction,
    at: &str,
) {
    for (media, old_m) in old {
        let here = Ctx {
            operation: ctx.operation.clone(),
            place: format!("{} {media}", ctx.place),
        };
        match new.get(media) {
            None => d.push(
                "media-type-removed",
                true,
                &here,
                "",
                at,
                format!(
                    "`{media}` is no longer {}",
                    match dir {
                        Direction::Request => "accepted",
                        Direction::Response => "returned",
                    }
                ),
            ),
            Some(new_m) => {
                if let (Some(o), Some(n)) = (old_m.get("schema"), new_m.get("schema")) {
                    d.schema(o, n, dir, &here, " body", at, 0);
                }
            }
        }
    }
    for media in new.keys().filter(|m| !old.contains_key(*m)) {
        let here = Ctx {
            operation: ctx.operation.clone(),
            place: format!("{} {media}", ctx.place),
        };
        d.push(
            "media-type-added",
            false,
            &here,
            "",
            at,
            format!("`{media}` was added"),
        );
    }
}

pub(super) fn diff_responses(
    d: &mut Differ<'_>,
    ctx: &Ctx,
    old: Option<&Value>,
    new: Option<&Value>,
    at: &str,
) {
    let empty = Map::new();
    let old = old.and_then(Value::as_object).unwrap_or(&empty);
    let new = new.and_then(Value::as_object).unwrap_or(&empty);
    for (code, old_r) in old.iter().filter(|(k, _)| !k.starts_with("x-")) {
        let here = Ctx {
            operation: ctx.operation.clone(),
            place: format!("response {code}"),
        };
        match new.get(code) {
            None => {
                let success = code.starts_with('2');
                d.push(
                    "response-removed",
                    success,
                    &here,
                    "",
                    at,
                    format!("response {code} was removed"),
                );
            }
            Some(new_r) => {
                let (o, n) = (content(d.old, Some(old_r)), content(d.new, Some(new_r)));
                diff_media(d, &here, &o, &n, Direction::Response, at);
            }
        }
    }
    for code in new
        .keys()
        .filter(|k| !k.starts_with("x-") && !old.contains_key(*k))
    {
        let here = Ctx {
            operation: ctx.operation.clone(),
            place: format!("response {code}"),
        };
        d.push(
            "response-added",
            false,
            &here,
            "",
            at,
            format!("response {code} was added"),
        );
    }
}
