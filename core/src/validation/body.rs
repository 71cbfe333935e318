//! Request bodies: whether a sent media type is one the operation declares, and reading a
//! JSON body within the nesting bound before checking it against its schema.

use super::schema_check::{Checker, Sink};
use super::{SchemaId, Violation, MAX_DEPTH};

/// Parses `bytes` as JSON and checks it against `schema`, reporting under pointer `root`.
pub(super) fn check_json(
    checker: &mut Checker<'_>,
    schema: SchemaId,
    bytes: &[u8],
    root: &str,
    sink: &mut Sink,
) {
    if nesting(bytes) > MAX_DEPTH {
        sink.found.push(Violation {
            pointer: root.into(),
            reason: format!("nests deeper than {MAX_DEPTH} levels"),
        });
        return;
    }
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(value) => checker.check(schema, &value, &mut root.to_owned(), 0, sink),
        Err(e) => sink.found.push(Violation {
            pointer: root.into(),
            reason: format!("is not valid JSON: {e}"),
        }),
    }
}

/// The deepest `[`/`{` nesting of JSON text (strings skipped), stopping past the limit.
fn nesting(bytes: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
                if max > MAX_DEPTH {
                    return max;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Whether a declared media range (`application/json`, `image/*`, `*/*`) covers `sent`.
pub fn media_matches(declared: &str, sent: &str) -> bool {
    let essence = |m: &str| {
        m.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    };
    let (d, s) = (essence(declared), essence(sent));
    match (d.split_once('/'), s.split_once('/')) {
        (Some((dt, ds)), Some((st, ss))) => (dt == "*" || dt == st) && (ds == "*" || ds == ss),
        _ => false,
    }
}
