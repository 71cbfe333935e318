//! JSON pointers (RFC 6901) and local `$ref` resolution inside one OpenAPI document.
//!
//! Only same-document references (`#/…`) are resolved: tollgate stores one self-contained
//! document per version. Chains of references are followed a bounded number of hops, so
//! a `$ref` loop is reported instead of hanging.

use serde_json::Value;

/// Most `$ref` → `$ref` hops followed before a chain is called circular.
pub const MAX_REF_HOPS: usize = 32;

/// Escapes one reference token (`~` → `~0`, `/` → `~1`).
pub fn escape(token: &str) -> String {
    if !token.contains(['~', '/']) {
        return token.to_owned();
    }
    token.replace('~', "~0").replace('/', "~1")
}

/// Appends one token to a pointer.
pub fn child(pointer: &str, token: &str) -> String {
    let mut out = String::with_capacity(pointer.len() + token.len() + 1);
    out.push_str(pointer);
    out.push('/');
    out.push_str(&escape(token));
    out
}

/// Decodes `%XX` escapes of a URI fragment; `None` when they do not form UTF-8.
fn percent_decode(fragment: &str) -> Option<String> {
    if !fragment.contains('%') {
        return Some(fragment.to_owned());
    }
    let bytes = fragment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Why a `$ref` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefError {
    #[error("only references inside this document (`#/…`) are supported; bundle `{0}` into it")]
    External(String),
    #[error("`{0}` points at nothing in this document")]
    Missing(String),
    #[error("`{0}` is part of a circular chain of `$ref`s")]
    Circular(String),
}

/// The value a local reference names.
pub fn resolve<'a>(doc: &'a Value, reference: &str) -> Result<&'a Value, RefError> {
    let fragment = reference
        .strip_prefix('#')
        .ok_or_else(|| RefError::External(reference.to_owned()))?;
    let pointer =
        percent_decode(fragment).ok_or_else(|| RefError::Missing(reference.to_owned()))?;
    if pointer.is_empty() {
        return Ok(doc);
    }
    doc.pointer(&pointer)
        .ok_or_else(|| RefError::Missing(reference.to_owned()))
}

/// The `$ref` of a reference object, if `value` is one.
pub fn ref_of(value: &Value) -> Option<&str> {
    value.get("$ref").and_then(Value::as_str)
}

/// Follows `value` through `$ref`s to the object they finally name.
pub fn follow<'a>(doc: &'a Value, value: &'a Value) -> Result<&'a Value, RefError> {
    let mut current = value;
    for _ in 0..MAX_REF_HOPS {
        match ref_of(current) {
            Some(reference) => current = resolve(doc, reference)?,
            None => return Ok(current),
        }
    }
    Err(RefError::Circular(
        ref_of(value).unwrap_or_default().to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens_are_escaped() {
        assert_eq!(escape("/pets/{id}"), "~1pets~1{id}");
        assert_eq!(escape("a~b"), "a~0b");
        assert_eq!(child("/paths", "/pets"), "/paths/~1pets");
    }

    #[test]
    fn local_refs_resolve_and_loops_are_caught() {
        let doc = json!({
            "components": {"schemas": {
                "Pet": {"type": "object"},
                "Alias": {"$ref": "#/components/schemas/Pet"},
                "A": {"$ref": "#/components/schemas/B"},
                "B": {"$ref": "#/components/schemas/A"},
                "Odd name": {"type": "string"}
            }},
            "paths": {"/pets/{id}": {"get": {}}}
        });
        let alias = json!({"$ref": "#/components/schemas/Alias"});
        assert_eq!(follow(&doc, &alias).unwrap(), &json!({"type": "object"}));
        let looped = json!({"$ref": "#/components/schemas/A"});
        assert!(matches!(follow(&doc, &looped), Err(RefError::Circular(_))));
        assert!(matches!(
            resolve(&doc, "#/components/schemas/Nope"),
            Err(RefError::Missing(_))
        ));
        assert!(matches!(
            resolve(&doc, "other.yaml#/x"),
            Err(RefError::External(_))
        ));
        assert!(resolve(&doc, "#/components/schemas/Odd%20name").is_ok());
        assert!(resolve(&doc, "#/paths/~1pets~1%7Bid%7D/get").is_ok());
        assert!(resolve(&doc, "#/x%zz").is_err());
        assert!(resolve(&doc, "#/x%").is_err());
    }
}
