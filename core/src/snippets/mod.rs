//! Code snippets for an API operation in curl, JavaScript (fetch), Python (requests), Go
//! (net/http) and Rust (reqwest), from the version's OpenAPI document: the portal shows
//! them with a placeholder key on a version's page and with the real key once, when a key
//! is created. Every value from the document or the developer is quoted for the target
//! language (shell single quotes; JSON string literals for JavaScript, Python and Go;
//! Rust's own escapes), so a hostile example or key cannot break out of its string.

mod render;
pub(crate) mod request;
#[cfg(test)]
mod tests;

pub use render::{render_all, Language, Snippet};
pub use request::{example_request, operations, Operation, Request};

/// What a snippet shows instead of a key the portal cannot know.
pub const KEY_PLACEHOLDER: &str = "YOUR_API_KEY";
