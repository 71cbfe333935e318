//! Checking one request (and, in report mode, one answer) against a compiled document:
//! find the operation by method and path template (literal segments beat templated ones,
//! as OpenAPI says), then check path, query and header parameters, the content type and
//! the JSON body, collecting every violation up to [`MAX_VIOLATIONS`].

use super::body::{check_json, media_matches};
use super::compile::is_json_media;
use super::params::{decode, parse_query, percent_decode, Location};
use super::schema_check::{Checker, Sink};
use super::schema_compile::compile_pattern;
use super::{CompiledValidation, Operation, Violation};
use super::{MAX_STEPS, MAX_VIOLATIONS};

/// One segment of a path template: literal text, or `prefix{var}suffix`.
#[derive(Debug, Clone)]
enum Segment {
    Literal(String),
    Var {
        prefix: String,
        name: String,
        suffix: String,
    },
}

fn segments(path: &str) -> Vec<&str> {
    let path = path
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path);
    // What precedes the first `/` (nothing, for an absolute path) is not a segment.
    let mut parts = path.split('/');
    parts.next();
    parts.collect()
}

fn parse_template(template: &str) -> Vec<Segment> {
    segments(template)
        .into_iter()
        .map(|seg| match (seg.find('{'), seg.rfind('}')) {
            (Some(open), Some(close)) if open < close => Segment::Var {
                prefix: seg[..open].to_owned(),
                name: seg[open + 1..close].to_owned(),
                suffix: seg[close + 1..].to_owned(),
            },
            _ => Segment::Literal(seg.to_owned()),
        })
        .collect()
}

/// The operation a request reaches.
#[derive(Debug, PartialEq)]
pub enum Lookup<'v> {
    Found {
        op: &'v Operation,
        /// (name, decoded value) of each path parameter.
        path_params: Vec<(String, String)>,
    },
    /// No path template of the document matches.
    UnknownPath,
    /// The path matches, the method does not; these are the methods it has.
    MethodNotAllowed { allowed: Vec<&'v str> },
}

/// The body as the edge has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyInput<'a> {
    Absent,
    /// Sent but not read (the operation has no JSON schema for it).
    Unread,
    Bytes(&'a [u8]),
}

/// What of a request is checked (the path was already used by [`Validator::lookup`]).
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// The raw query string, without `?`.
    pub query: &'a str,
    /// Header (lower-case name, value) pairs.
    pub headers: &'a [(String, String)],
    pub body: BodyInput<'a>,
}

/// A compiled document ready to check requests: its patterns compiled and its path
/// templates split, once per snapshot.
#[derive(Debug)]
pub struct Validator {
    spec: CompiledValidation,
    patterns: Vec<Option<regex_lite::Regex>>,
    templates: Vec<Vec<Segment>>,
}

impl Validator {
    /// Prepares `spec` (a pattern that does not compile is left unchecked; the origin
    /// refuses such documents, so this only happens with a hand-made snapshot).
    pub fn new(spec: CompiledValidation) -> Validator {
        let patterns = spec
            .schemas
            .iter()
            .map(|s| s.pattern.as_deref().and_then(|p| compile_pattern(p).ok()))
            .collect();
        let templates = spec
            .operations
            .iter()
            .map(|op| parse_template(&op.path))
            .collect();
        Validator {
            spec,
            patterns,
            templates,
        }
    }

    /// Finds the operation for `method` and `path` (the path after base path and version).
    pub fn lookup(&self, method: &str, path: &str) -> Lookup<'_> {
        let method = method.to_ascii_uppercase();
        let got = segments(path);
        let mut best: Option<(usize, &str)> = None; // (literal segments, template)
        let mut hits: Vec<(usize, Vec<(String, String)>)> = Vec::new();
        for (i, template) in self.templates.iter().enumerate() {
            let Some(params) = match_template(template, &got) else {
                continue;
            };
            let literal = template
                .iter()
                .filter(|s| matches!(s, Segment::Literal(_)))
                .count();
            let op_path = self.spec.operations[i].path.as_str();
            match best {
                Some((l, _)) if l > literal => continue,
                Some((l, p)) if l == literal && p != op_path => continue,
                Some((l, _)) if l < literal => hits.clear(),
                _ => {}
            }
            best = Some((literal, op_path));
            hits.push((i, params));
        }
        if hits.is_empty() {
            return Lookup::UnknownPath;
        }
        let pick = hits
            .iter()
            .position(|(i, _)| self.spec.operations[*i].method == method)
            .or_else(|| {
                let get = method == "HEAD";
                hits.iter()
                    .position(|(i, _)| get && self.spec.operations[*i].method == "GET")
            });
        match pick {
            Some(k) => {
                let (i, path_params) = hits.swap_remove(k);
                Lookup::Found {
                    op: &self.spec.operations[i],
                    path_params,
                }
            }
            None => Lookup::MethodNotAllowed {
                allowed: hits
                    .iter()
                    .map(|(i, _)| self.spec.operations[*i].method.as_str())
                    .collect(),
            },
        }
    }

    fn checker(&self) -> Checker<'_> {
        Checker {
            schemas: &self.spec.schemas,
            patterns: &self.patterns,
            steps: MAX_STEPS,
        }
    }

    /// Every violation of the request (at most [`MAX_VIOLATIONS`]); empty when it matches.
    pub fn check_request(
        &self,
        op: &Operation,
        path_params: &[(String, String)],
        parts: RequestParts<'_>,
    ) -> Vec<Violation> {
        let mut sink = Sink {
            found: Vec::new(),
            limit: MAX_VIOLATIONS,
        };
        let mut checker = self.checker();
        let query = parse_query(parts.query);
        for param in &op.params {
            let raws: Vec<&str> = match param.location {
                Location::Path => path_params
                    .iter()
                    .filter(|(n, _)| *n == param.name)
                    .map(|(_, v)| v.as_str())
                    .collect(),
                Location::Query => query
                    .iter()
                    .filter(|(n, _)| *n == param.name)
                    .map(|(_, v)| v.as_str())
                    .collect(),
                Location::Header => parts
                    .headers
                    .iter()
                    .filter(|(n, _)| *n == param.name)
                    .map(|(_, v)| v.as_str())
                    .collect(),
                Location::Cookie => continue,
            };
            let mut at = format!(
                "/{}/{}",
                param.location.token(),
                crate::openapi::pointer::escape(&param.name)
            );
            if raws.is_empty() {
                if param.required {
                    sink.found.push(Violation {
                        pointer: at,
                        reason: "is required".into(),
                    });
                }
                continue;
            }
            match decode(param, &self.spec.schemas, &raws) {
                Ok(Some(value)) => checker.check(param.schema, &value, &mut at, 0, &mut sink),
                Ok(None) => {}
                Err(reason) => sink.found.push(Violation {
                    pointer: at,
                    reason,
                }),
            }
        }
        if let Some(body) = &op.body {
            self.check_body(&mut checker, body, parts, &mut sink);
        }
        sink.found.truncate(MAX_VIOLATIONS);
        sink.found
    }

    fn check_body(
        &self,
        checker: &mut Checker<'_>,
        body: &super::Body,
        parts: RequestParts<'_>,
        sink: &mut Sink,
    ) {
        let sent = match parts.body {
            BodyInput::Absent => false,
            BodyInput::Unread => true,
            BodyInput::Bytes(b) => !b.is_empty(),
        };
        if !sent {
            if body.required {
                sink.found.push(Violation {
                    pointer: "/body".into(),
                    reason: "a request body is required".into(),
                });
            }
            return;
        }
        let content_type = parts
            .headers
            .iter()
            .find(|(n, _)| n == "content-type")
            .map(|(_, v)| v.as_str());
        let accepted = body.content_types.join(", ");
        let Some(content_type) = content_type else {
            sink.found.push(Violation {
                pointer: "/header/content-type".into(),
                reason: format!("is required with a body; send one of {accepted}"),
            });
            return;
        };
        let Some(declared) = body
            .content_types
            .iter()
            .find(|d| media_matches(d, content_type))
        else {
            sink.found.push(Violation {
                pointer: "/header/content-type".into(),
                reason: format!("must be one of {accepted}"),
            });
            return;
        };
        let (Some(schema), BodyInput::Bytes(bytes)) = (body.json, parts.body) else {
            return;
        };
        if !is_json_media(content_type) && !is_json_media(declared) {
            return;
        }
        check_json(checker, schema, bytes, "/body", sink);
    }

    /// Violations of an answer (status and body) against the operation's response schema;
    /// empty when it matches or when the document gives no JSON schema for the status.
    pub fn check_response(&self, op: &Operation, status: u16, body: &[u8]) -> Vec<Violation> {
        let code = status.to_string();
        let range = format!("{}XX", status / 100);
        let schema = [code.as_str(), range.as_str(), "default"]
            .iter()
            .find_map(|key| {
                op.responses
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key))
                    .map(|(_, s)| *s)
            });
        let Some(schema) = schema else {
            return Vec::new();
        };
        let mut sink = Sink {
            found: Vec::new(),
            limit: MAX_VIOLATIONS,
        };
        check_json(&mut self.checker(), schema, body, "/response", &mut sink);
        sink.found
    }
}

fn match_template(template: &[Segment], got: &[&str]) -> Option<Vec<(String, String)>> {
    if template.len() != got.len() {
        return None;
    }
    let mut params = Vec::new();
    for (t, g) in template.iter().zip(got) {
        match t {
            Segment::Literal(l) if l == g => {}
            Segment::Literal(_) => return None,
            Segment::Var {
                prefix,
                name,
                suffix,
            } => {
                let value = g
                    .strip_prefix(prefix.as_str())?
                    .strip_suffix(suffix.as_str())?;
                if value.is_empty() {
                    return None;
                }
                params.push((name.clone(), percent_decode(value, false)));
            }
        }
    }
    Some(params)
}
