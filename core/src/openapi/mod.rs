//! OpenAPI documents as the catalog keeps them: loaded from JSON or YAML (with the line
//! and column of every node), validated structurally with every error located, and
//! navigated through local `$ref`s. Everything works on `serde_json::Value`, so it builds
//! for wasm32 as well.

pub mod load;
pub mod operations;
pub mod pointer;
pub mod served;
pub mod validate;
pub mod yaml;

pub use load::{load_document, LoadedDocument, SourceFormat};
pub use validate::{validate, SpecIssue};
