//! Reading an uploaded OpenAPI document: raw JSON or YAML (`version` and `upstream_url`
//! in the query string), or a JSON wrapper `{"version", "upstream_url", "spec"}` whose
//! `spec` is the document or its text. Every problem in the document comes back at once,
//! located by JSON pointer and, for text, line and column.

use crate::error::AppError;
use crate::extract::parse_json;
use axum::http::{header, HeaderMap};
use serde::Deserialize;
use serde_json::Value;
use tollgate_core::openapi::{load_document, validate, SourceFormat};
use utoipa::{IntoParams, ToSchema};

/// Largest document accepted (the admin API's other bodies are limited to 1 MiB).
pub const MAX_SPEC_BYTES: usize = 10 * 1024 * 1024;

/// Media types a raw document may be sent as.
pub const YAML_TYPES: [&str; 3] = ["application/yaml", "application/x-yaml", "text/yaml"];

/// Query string of a raw upload.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// Semantic version; defaults to the document's `info.version`.
    pub version: Option<String>,
    /// Overrides the API's upstream for this version.
    pub upstream_url: Option<String>,
}

/// `POST /admin/v1/apis/{id}/versions` as JSON with the document inside.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateVersion {
    /// Semantic version, e.g. `1.2.0`; defaults to the document's `info.version`.
    #[serde(default)]
    pub version: Option<String>,
    /// Overrides the API's upstream for this version.
    #[serde(default)]
    pub upstream_url: Option<String>,
    /// The OpenAPI 3.0/3.1 document, as an object or as JSON/YAML text.
    #[schema(value_type = Object)]
    pub spec: Value,
}

/// A valid uploaded document and what came with it.
#[derive(Debug)]
pub struct Upload {
    pub spec: Value,
    pub format: SourceFormat,
    pub version: Option<String>,
    pub upstream_url: Option<String>,
}

fn is_wrapper(value: &Value) -> bool {
    value.as_object().is_some_and(|o| {
        !o.contains_key("openapi")
            && ["spec", "version", "upstream_url"]
                .iter()
                .any(|k| o.contains_key(*k))
    })
}

fn document(bytes: &[u8], format: SourceFormat) -> Result<Value, AppError> {
    load_document(bytes, format)
        .map(|d| d.value)
        .map_err(AppError::InvalidDocument)
}

/// Reads the body according to its media type.
pub fn read_upload(
    headers: &HeaderMap,
    body: &[u8],
    query: UploadQuery,
) -> Result<Upload, AppError> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let raw = |spec, format| Upload {
        spec,
        format,
        version: query.version.clone(),
        upstream_url: query.upstream_url.clone(),
    };
    if YAML_TYPES.contains(&media.as_str()) {
        return Ok(raw(document(body, SourceFormat::Yaml)?, SourceFormat::Yaml));
    }
    if media != "application/json" && !media.ends_with("+json") {
        return Err(AppError::UnsupportedMediaType(format!(
            "send the document as application/json or {} (got `{media}`)",
            YAML_TYPES.join(", ")
        )));
    }
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    if !parsed.as_ref().is_some_and(is_wrapper) {
        return Ok(raw(document(body, SourceFormat::Json)?, SourceFormat::Json));
    }
    let wrapper: CreateVersion = parse_json(body)?;
    let (spec, format) = match wrapper.spec {
        Value::String(text) => (
            document(text.as_bytes(), SourceFormat::Yaml)?,
            SourceFormat::Yaml,
        ),
        spec @ Value::Object(_) => {
            let issues = validate(&spec);
            if !issues.is_empty() {
                return Err(AppError::InvalidDocument(issues));
            }
            (spec, SourceFormat::Json)
        }
        _ => {
            return Err(AppError::invalid(
                "spec",
                "must be an OpenAPI document (an object) or its JSON/YAML text",
            ))
        }
    };
    Ok(Upload {
        spec,
        format,
        version: wrapper.version.or(query.version),
        upstream_url: wrapper.upstream_url.or(query.upstream_url),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn typed(media: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_str(media).unwrap());
        h
    }

    const DOC: &str = r#"{"openapi":"3.1.0","info":{"title":"t","version":"1.0.0"},"paths":{}}"#;

    #[test]
    fn raw_wrapped_and_yaml_uploads_are_told_apart() {
        let q = || UploadQuery {
            version: Some("2.0.0".into()),
            upstream_url: None,
        };
        let up = read_upload(
            &typed("application/json; charset=utf-8"),
            DOC.as_bytes(),
            q(),
        )
        .unwrap();
        assert_eq!(
            (up.format, up.version.as_deref()),
            (SourceFormat::Json, Some("2.0.0"))
        );
        let wrapped = format!(r#"{{"version":"3.0.0","spec":{DOC}}}"#);
        let up = read_upload(&typed("application/json"), wrapped.as_bytes(), q()).unwrap();
        assert_eq!(up.version.as_deref(), Some("3.0.0"));
        let text = serde_json::to_string(&serde_json::json!({"spec": "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: {}\n"})).unwrap();
        assert_eq!(
            read_upload(&typed("application/json"), text.as_bytes(), q())
                .unwrap()
                .format,
            SourceFormat::Yaml
        );
        let yaml = "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: {}\n";
        assert!(read_upload(&typed("text/yaml"), yaml.as_bytes(), q()).is_ok());
    }

    #[test]
    fn wrong_media_types_and_shapes_are_refused() {
        let q = UploadQuery::default;
        let status = |h: HeaderMap, body: &str| {
            read_upload(&h, body.as_bytes(), q())
                .unwrap_err()
                .problem()
                .status
        };
        assert_eq!(status(typed("text/plain"), DOC), 415);
        assert_eq!(status(HeaderMap::new(), DOC), 415);
        assert_eq!(status(typed("application/json"), r#"{"spec": 5}"#), 422);
        assert_eq!(
            status(typed("application/json"), r#"{"version": "1.0.0"}"#),
            422
        );
        assert_eq!(
            status(typed("application/json"), r#"{"spec": {}, "extra": 1}"#),
            422
        );
        assert_eq!(status(typed("application/json"), "{"), 422);
    }
}
