//! The document a developer downloads: the version's OpenAPI document with `servers` set
//! to where the version answers at the edge and the edge's credentials declared (a bearer
//! token or `X-API-Key`, both taking a tollgate key), so tools and the interactive
//! reference know where to call and how to authenticate.

use serde_json::{json, Map, Value};

/// Name of the security scheme for a key sent as a bearer token.
pub const BEARER_SCHEME: &str = "tollgate_key";
/// Name of the security scheme for a key sent in `X-API-Key`.
pub const HEADER_SCHEME: &str = "tollgate_key_header";

/// `doc` as served from the edge at `server_url`; a document that is not an object is
/// returned unchanged.
pub fn served_document(mut doc: Value, server_url: &str) -> Value {
    let Some(obj) = doc.as_object_mut() else {
        return doc;
    };
    obj.insert(
        "servers".into(),
        json!([{ "url": server_url, "description": "tollgate edge" }]),
    );
    let components = obj
        .entry("components")
        .or_insert_with(|| Value::Object(Map::new()));
    if !components.is_object() {
        *components = Value::Object(Map::new());
    }
    let schemes = components.as_object_mut().map(|c| {
        c.entry("securitySchemes")
            .or_insert_with(|| Value::Object(Map::new()))
    });
    if let Some(schemes) = schemes {
        if !schemes.is_object() {
            *schemes = Value::Object(Map::new());
        }
        if let Some(schemes) = schemes.as_object_mut() {
            schemes.insert(
                BEARER_SCHEME.into(),
                json!({"type": "http", "scheme": "bearer", "description": "Your tollgate API key (`tg_…`)"}),
            );
            schemes.insert(
                HEADER_SCHEME.into(),
                json!({"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "Your tollgate API key (`tg_…`)"}),
            );
        }
    }
    // The edge asks every caller for a key, whatever the upstream's own document says.
    obj.insert(
        "security".into(),
        json!([{ BEARER_SCHEME: [] }, { HEADER_SCHEME: [] }]),
    );
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_and_key_schemes_are_set_and_own_schemes_kept() {
        let doc = json!({"openapi": "3.0.3", "servers": [{"url": "http://upstream.internal"}],
            "components": {"securitySchemes": {"oauth": {"type": "oauth2"}}}, "paths": {}});
        let out = served_document(doc, "https://edge.example/pets/v1");
        assert_eq!(
            out["servers"],
            json!([{"url": "https://edge.example/pets/v1", "description": "tollgate edge"}])
        );
        assert_eq!(
            out["components"]["securitySchemes"]["oauth"]["type"],
            "oauth2"
        );
        assert_eq!(
            out["components"]["securitySchemes"][BEARER_SCHEME]["scheme"],
            "bearer"
        );
        assert_eq!(out["security"][1][HEADER_SCHEME], json!([]));
    }

    #[test]
    fn odd_documents_do_not_panic() {
        assert_eq!(served_document(json!([1]), "x"), json!([1]));
        let out = served_document(json!({"components": 5}), "x");
        assert!(out["components"]["securitySchemes"][BEARER_SCHEME].is_object());
        let out = served_document(json!({"components": {"securitySchemes": "no"}}), "x");
        assert!(out["components"]["securitySchemes"][HEADER_SCHEME].is_object());
    }
}
