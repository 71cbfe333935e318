//! Request extractors whose failures are problem+json: axum's own `Json`, `Query` and
//! `Path` answer in plain text, which would break the one-error-shape promise.
//!
//! JSON bodies are read with `serde_path_to_error`, so a wrong type or missing member is
//! a 422 naming the field (`auth.issuer`), while text that is not JSON at all is a 400.

use crate::error::AppError;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use bytes::Bytes;
use serde::de::DeserializeOwned;

/// The request body limit for the admin API.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A JSON request body.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let body = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge {
                    limit: MAX_BODY_BYTES,
                }
            } else {
                AppError::Malformed(rejection.body_text())
            }
        })?;
        parse_json(&body).map(Json)
    }
}

/// Parses a JSON document, telling syntax errors (400) from shape errors (422).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(shape_error)?;
    de.end().map_err(|e| syntax_error(&e))?;
    Ok(value)
}

fn shape_error(error: serde_path_to_error::Error<serde_json::Error>) -> AppError {
    let inner = error.inner();
    if !inner.is_data() {
        return syntax_error(inner);
    }
    let message = without_position(inner);
    let path = error.path().to_string();
    let parent = (path != ".").then_some(path);
    // serde reports a missing member at its parent; name the member itself.
    let member = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|p| message.strip_prefix(p))
        .and_then(|rest| rest.split('`').next())
        .map(str::to_owned);
    match (parent, member) {
        // Unknown members are already in the path; missing ones are not.
        (Some(path), Some(member)) if path == member || path.ends_with(&format!(".{member}")) => {
            AppError::invalid(path, message)
        }
        (Some(parent), Some(member)) => AppError::invalid(format!("{parent}.{member}"), message),
        (None, Some(member)) => AppError::invalid(member, message),
        (Some(parent), None) => AppError::invalid(parent, message),
        (None, None) => AppError::invalid("body", message),
    }
}

fn syntax_error(e: &serde_json::Error) -> AppError {
    if e.is_eof() && e.line() == 1 && e.column() == 0 {
        AppError::Malformed("the request body is empty; send a JSON object".into())
    } else {
        AppError::Malformed(format!("the request body is not valid JSON: {e}"))
    }
}

/// serde_json appends " at line L column C"; for shape errors the member path says more.
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// A query string.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        axum::extract::Query::try_from_uri(&parts.uri)
            .map(|axum::extract::Query(v)| Query(v))
            .map_err(|r| AppError::Malformed(r.body_text()))
    }
}

/// Path parameters.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        axum::extract::Path::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Path(v))
            .map_err(|r| AppError::Malformed(r.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)] // fields are only deserialised
    struct Sample {
        name: String,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    fn field_of(body: &str) -> (u16, Option<String>) {
        let p = parse_json::<Sample>(body.as_bytes()).unwrap_err().problem();
        (p.status, p.field)
    }

    #[test]
    fn syntax_errors_are_400_and_shape_errors_422_naming_the_field() {
        assert_eq!(field_of(""), (400, None));
        assert_eq!(field_of("{\"name\": "), (400, None));
        assert_eq!(field_of("{\"name\": \"x\"} trailing"), (400, None));
        assert_eq!(field_of("{}"), (422, Some("name".into())));
        assert_eq!(field_of("{\"name\": 5}"), (422, Some("name".into())));
        assert_eq!(
            field_of("{\"name\": \"x\", \"nmae\": 1}"),
            (422, Some("nmae".into()))
        );
        assert_eq!(
            field_of("{\"name\": \"x\", \"inner\": {}}"),
            (422, Some("inner.count".into()))
        );
        assert_eq!(
            field_of("{\"name\": \"x\", \"inner\": {\"count\": -1}}"),
            (422, Some("inner.count".into()))
        );
        assert_eq!(
            field_of("{\"name\": \"x\", \"inner\": {\"count\": 1, \"extra\": 2}}"),
            (422, Some("inner.extra".into()))
        );
        assert_eq!(field_of("[]"), (422, Some("body".into())));
        assert!(parse_json::<Sample>(b"{\"name\": \"x\"}").is_ok());
    }

    #[test]
    fn shape_details_drop_the_line_and_column() {
        let p = parse_json::<Sample>(b"{}").unwrap_err().problem();
        assert!(p.detail.contains("missing field `name`"), "{}", p.detail);
        assert!(!p.detail.contains("line 1"), "{}", p.detail);
    }
}
