//! Turning uploaded bytes into a validated OpenAPI document, or into the list of every
//! error with its JSON pointer and, where the text allows, its line and column.

use super::validate::{openapi_version, validate, OpenApiVersion, SpecIssue};
use super::yaml::{parse_yaml, Position};
use serde_json::Value;
use std::collections::HashMap;

/// How the document was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    Json,
    Yaml,
}

/// A document that passed validation.
#[derive(Debug, Clone)]
pub struct LoadedDocument {
    pub value: Value,
    pub openapi: OpenApiVersion,
}

fn position_of(text: &str, byte: usize) -> Position {
    let before = &text.as_bytes()[..byte.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    Position {
        line,
        column: byte.saturating_sub(line_start) + 1,
    }
}

fn located(pointer: &str, message: String, at: Option<Position>) -> SpecIssue {
    SpecIssue {
        pointer: pointer.to_owned(),
        message,
        line: at.map(|p| p.line),
        column: at.map(|p| p.column),
    }
}

/// The position of `pointer`, or of its nearest ancestor that has one.
fn nearest(positions: &HashMap<String, Position>, pointer: &str) -> Option<Position> {
    let mut p = pointer;
    loop {
        if let Some(at) = positions.get(p) {
            return Some(*at);
        }
        p = &p[..p.rfind('/')?];
    }
}

/// Parses and validates a document; every error found is returned.
pub fn load_document(bytes: &[u8], format: SourceFormat) -> Result<LoadedDocument, Vec<SpecIssue>> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let bad = e.valid_up_to();
        let valid = std::str::from_utf8(&bytes[..bad]).unwrap_or_default();
        let at = position_of(valid, bad);
        vec![located(
            "",
            format!("the document is not UTF-8 (byte {bad})"),
            Some(at),
        )]
    })?;
    let (value, positions) = match format {
        SourceFormat::Json => match serde_json::from_str::<Value>(text) {
            Ok(value) => (value, None),
            Err(e) => {
                let at = Position {
                    line: e.line(),
                    column: e.column(),
                };
                let message = e.to_string();
                let message = message
                    .rfind(" at line ")
                    .map_or(message.clone(), |i| message[..i].to_owned());
                return Err(vec![located(
                    "",
                    format!("not valid JSON: {message}"),
                    Some(at),
                )]);
            }
        },
        SourceFormat::Yaml => match parse_yaml(text) {
            Ok(doc) => (doc.value, Some(doc.positions)),
            Err(e) => {
                return Err(vec![located(
                    "",
                    format!("not valid YAML: {}", e.message),
                    Some(e.at),
                )])
            }
        },
    };
    let mut issues = validate(&value);
    if issues.is_empty() {
        let openapi = openapi_version(&value).unwrap_or(OpenApiVersion::V30);
        return Ok(LoadedDocument { value, openapi });
    }
    // JSON text is YAML too: parse it again (only on this failure path) for positions.
    let positions = positions.or_else(|| parse_yaml(text).ok().map(|d| d.positions));
    if let Some(positions) = positions {
        for issue in &mut issues {
            if let Some(at) = nearest(&positions, &issue.pointer) {
                issue.line = Some(at.line);
                issue.column = Some(at.column);
            }
        }
    }
    Err(issues)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_pointer_line_and_column() {
        let yaml = "openapi: 3.0.3\ninfo:\n  title: Pets\npaths:\n  pets:\n    get: {}\n";
        let issues = load_document(yaml.as_bytes(), SourceFormat::Yaml).unwrap_err();
        let by_pointer: HashMap<&str, &SpecIssue> =
            issues.iter().map(|i| (i.pointer.as_str(), i)).collect();
        let version = by_pointer["/info/version"];
        assert_eq!((version.line, version.column), (Some(2), Some(1)));
        let path = by_pointer["/paths/pets"];
        assert_eq!((path.line, path.column), (Some(5), Some(3)));
        let json = "{\n  \"openapi\": \"2.0\",\n  \"info\": {\"title\": \"t\", \"version\": \"1\"},\n  \"paths\": {}\n}";
        let issues = load_document(json.as_bytes(), SourceFormat::Json).unwrap_err();
        assert_eq!(issues[0].pointer, "/openapi");
        assert_eq!(issues[0].line, Some(2));
    }

    #[test]
    fn bad_text_is_located() {
        let issues = load_document(b"{\"a\":\n \xff}", SourceFormat::Json).unwrap_err();
        assert_eq!((issues[0].line, issues[0].column), (Some(2), Some(2)));
        let issues = load_document(b"{\"a\": }", SourceFormat::Json).unwrap_err();
        assert_eq!(issues[0].line, Some(1));
        let issues = load_document(b"a: [1\n", SourceFormat::Yaml).unwrap_err();
        assert!(issues[0].message.starts_with("not valid YAML"));
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        assert!(load_document(deep.as_bytes(), SourceFormat::Json).is_err());
    }
}
