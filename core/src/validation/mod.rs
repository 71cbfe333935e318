//! OpenAPI request validation: the origin compiles an API version's document into a compact
//! [`CompiledValidation`] carried in the snapshot, and the edge checks each request against
//! it, reporting every violation with a JSON pointer (`/query/limit`, `/body/tags/0/name`).
//!
//! **Why a hand-written JSON Schema subset and not the `jsonschema` crate.** The compiled
//! form must cross the origin→edge boundary inside the snapshot, so it has to be plain
//! serde data; `jsonschema`'s validators are built in memory from a schema and are not
//! serialisable, so every isolate would re-resolve and re-compile every document from raw
//! OpenAPI on each snapshot. `jsonschema` (not built for wasm32 here) also depends on
//! `fancy-regex` (a backtracking engine: catastrophic patterns are a ReDoS risk at the
//! edge) on top of `regex`, plus `referencing`, `ahash`, `email_address` and friends; the
//! `regex` crate alone, measured, added ~200 KiB gzipped to a ~420 KiB worker. OpenAPI 3.0 schemas are a JSON
//! Schema dialect of their own (`nullable`, boolean `exclusiveMinimum`) that a generic
//! validator would need translated anyway. So core implements the subset OpenAPI documents
//! use — types (with `nullable` and 3.1 type arrays), `enum`/`const`, object and array
//! keywords, string lengths and `pattern` (`regex-lite`: worst case linear in pattern ×
//! input, no look-around or back-references, so no ReDoS; `\d`/`\w` are ASCII as in
//! ECMA-262 without the `u` flag; chosen over `regex` whose Unicode tables and DFA cost
//! ~200 KiB gzipped in the worker),
//! numeric bounds, `multipleOf`, `allOf`/`anyOf`/`oneOf`/`not` and the common formats —
//! and ignores unknown keywords, as JSON Schema says to. Schemas live in one arena per
//! document, indexed by number, so `$ref` cycles are just back-references.
//!
//! Work is bounded: instance nesting ([`MAX_DEPTH`]), violations reported
//! ([`MAX_VIOLATIONS`]), evaluation steps per request ([`MAX_STEPS`]) and body bytes (the
//! API's `max_body_bytes`).

mod body;
pub mod compile;
mod formats;
pub mod index;
mod numbers;
pub mod params;
pub mod request;
pub mod schema;
mod schema_check;
pub mod schema_compile;

#[cfg(test)]
mod tests;

use crate::ApiId;
use serde::{Deserialize, Serialize};

pub use body::media_matches;
pub use compile::{compile_document, CompileIssue};
pub use index::{ApiValidator, ValidationIndex};
pub use request::{BodyInput, Lookup, RequestParts, Validator};
pub use schema::{Schema, SchemaId};

/// Most violations listed for one request; checking stops once this many are found.
pub const MAX_VIOLATIONS: usize = 20;
/// Deepest nesting of a JSON body (or of schemas while compiling).
pub const MAX_DEPTH: usize = 64;
/// Most schema evaluation steps spent on one request (bounds `anyOf` fan-out).
pub const MAX_STEPS: usize = 200_000;

/// One way a request does not match the specification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// Where: `/path/petId`, `/query/limit`, `/header/x-request-id`, `/body/tags/0`.
    pub pointer: String,
    /// What is wrong, in words a caller can act on.
    pub reason: String,
}

/// What the edge does with requests that do not match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestMode {
    /// Refuse with 400 (unknown paths 404, unknown methods 405).
    Enforce,
    /// Forward, but mark the answer `tollgate-validation: failed; count=N`.
    Report,
    /// Do not validate.
    #[default]
    Off,
}

/// What the edge does with answers that do not match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResponseMode {
    /// Check small JSON answers and mark mismatches; never blocks.
    Report,
    #[default]
    Off,
}

/// One operation of a document, ready to check requests against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    /// Upper case, e.g. `GET`.
    pub method: String,
    /// The path template, e.g. `/pets/{petId}`.
    pub path: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<params::Param>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
    /// Status key (`200`, `2XX`, `default`) → schema of its JSON answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responses: Vec<(String, SchemaId)>,
}

/// The request body an operation accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Body {
    #[serde(default)]
    pub required: bool,
    /// Accepted media types as declared, lower case (`application/json`, `image/*`).
    pub content_types: Vec<String>,
    /// Schema of JSON bodies, when a JSON media type is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<SchemaId>,
}

/// A document compiled for validation: every operation plus the schema arena.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CompiledValidation {
    pub operations: Vec<Operation>,
    pub schemas: Vec<Schema>,
}

/// One API version's validation as the snapshot carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiValidation {
    pub api_id: ApiId,
    /// The version whose document this is; `None` for an API routed without versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub requests: RequestMode,
    #[serde(default)]
    pub responses: ResponseMode,
    pub max_body_bytes: u64,
    pub spec: CompiledValidation,
}
