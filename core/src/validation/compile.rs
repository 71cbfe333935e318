//! Compiling an OpenAPI 3.0 / 3.1 document into a [`CompiledValidation`]: every
//! operation with its parameters (path-level ones merged, operation-level ones winning),
//! accepted request media types, JSON body schema and JSON response schemas.

use super::params::{Location, Param, Style};
use super::schema_compile::{SchemaCompiler, SchemaIssue};
use super::{Body, CompiledValidation, Operation};
use crate::openapi::operations::METHODS;
use crate::openapi::pointer::{child, follow};
use serde_json::{Map, Value};

/// A problem that stops a document from compiling, located by JSON pointer.
pub type CompileIssue = SchemaIssue;

/// Whether a media type (`application/json`, `application/merge-patch+json`) is JSON.
pub fn is_json_media(media: &str) -> bool {
    let essence = media
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

struct DocCompiler<'a> {
    doc: &'a Value,
    schemas: SchemaCompiler<'a>,
}

impl<'a> DocCompiler<'a> {
    fn issue(&mut self, pointer: &str, message: &str) {
        self.schemas.issues.push(SchemaIssue {
            pointer: pointer.to_owned(),
            message: message.to_owned(),
        });
    }

    /// Follows a reference object, reporting a broken one.
    fn deref(&mut self, value: &'a Value, at: &str) -> Option<&'a Value> {
        match follow(self.doc, value) {
            Ok(v) => Some(v),
            Err(e) => {
                self.issue(&child(at, "$ref"), &e.to_string());
                None
            }
        }
    }

    fn param(&mut self, value: &'a Value, at: &str) -> Option<Param> {
        let obj = self.deref(value, at)?.as_object()?;
        let name = obj.get("name")?.as_str()?;
        let location = match obj.get("in")?.as_str()? {
            "path" => Location::Path,
            "query" => Location::Query,
            "header" => Location::Header,
            _ => Location::Cookie,
        };
        let default_style = match location {
            Location::Path | Location::Header => Style::Simple,
            _ => Style::Form,
        };
        let style = match obj.get("style").and_then(Value::as_str) {
            None => default_style,
            Some("form") => Style::Form,
            Some("simple") => Style::Simple,
            Some("spaceDelimited") => Style::SpaceDelimited,
            Some("pipeDelimited") => Style::PipeDelimited,
            Some(_) => Style::Other,
        };
        let explode = obj
            .get("explode")
            .and_then(Value::as_bool)
            .unwrap_or(style == Style::Form);
        let (schema, json) = if let Some(s) = obj.get("schema") {
            (self.schemas.compile(s, &child(at, "schema"), 0), false)
        } else if let Some((media, m)) = obj
            .get("content")
            .and_then(Value::as_object)
            .and_then(|c| c.iter().next())
        {
            let here = child(&child(at, "content"), media);
            let schema = m
                .get("schema")
                .map_or(0, |s| self.schemas.compile(s, &child(&here, "schema"), 0));
            (schema, is_json_media(media))
        } else {
            (0, false)
        };
        Some(Param {
            name: if location == Location::Header {
                name.to_ascii_lowercase()
            } else {
                name.to_owned()
            },
            location,
            required: obj.get("required") == Some(&Value::Bool(true)) || location == Location::Path,
            schema,
            style,
            explode,
            json,
        })
    }

    fn params(&mut self, list: Option<&'a Value>, at: &str, into: &mut Vec<Param>) {
        let Some(list) = list.and_then(Value::as_array) else {
            return;
        };
        let at = child(at, "parameters");
        for (i, p) in list.iter().enumerate() {
            if let Some(p) = self.param(p, &child(&at, &i.to_string())) {
                into.retain(|q| !(q.name == p.name && q.location == p.location));
                into.push(p);
            }
        }
    }

    /// The first JSON media type's schema under `content`.
    fn json_schema(
        &mut self,
        content: &'a Map<String, Value>,
        at: &str,
    ) -> Option<super::SchemaId> {
        let (media, m) = content.iter().find(|(media, _)| is_json_media(media))?;
        let here = child(&child(at, "content"), media);
        let schema = m.get("schema")?;
        Some(self.schemas.compile(schema, &child(&here, "schema"), 0))
    }

    fn body(&mut self, value: &'a Value, at: &str) -> Option<Body> {
        let obj = self.deref(value, at)?.as_object()?;
        let content = obj.get("content")?.as_object()?;
        Some(Body {
            required: obj.get("required") == Some(&Value::Bool(true)),
            content_types: content.keys().map(|k| k.to_ascii_lowercase()).collect(),
            json: self.json_schema(content, at),
        })
    }

    fn responses(&mut self, value: &'a Value, at: &str) -> Vec<(String, super::SchemaId)> {
        let mut out = Vec::new();
        let Some(map) = value.as_object() else {
            return out;
        };
        for (status, response) in map {
            let here = child(at, status);
            let content = self
                .deref(response, &here)
                .and_then(|r| r.get("content"))
                .and_then(Value::as_object);
            if let Some(id) = content.and_then(|c| self.json_schema(c, &here)) {
                out.push((status.clone(), id));
            }
        }
        out
    }

    fn path_item(&mut self, template: &str, item: &'a Value, out: &mut Vec<Operation>) {
        let at = child("/paths", template);
        let Some(item) = self.deref(item, &at).and_then(Value::as_object) else {
            return;
        };
        let mut shared = Vec::new();
        self.params(item.get("parameters"), &at, &mut shared);
        for method in METHODS {
            let Some(op) = item.get(method).and_then(Value::as_object) else {
                continue;
            };
            let op_at = child(&at, method);
            let mut params = shared.clone();
            self.params(op.get("parameters"), &op_at, &mut params);
            let body = op
                .get("requestBody")
                .and_then(|b| self.body(b, &child(&op_at, "requestBody")));
            let responses = op
                .get("responses")
                .map(|r| self.responses(r, &child(&op_at, "responses")))
                .unwrap_or_default();
            out.push(Operation {
                method: method.to_ascii_uppercase(),
                path: template.to_owned(),
                params,
                body,
                responses,
            });
        }
    }
}

/// Compiles every operation of `doc`, or reports every problem that prevents it.
pub fn compile_document(doc: &Value) -> Result<CompiledValidation, Vec<CompileIssue>> {
    let mut c = DocCompiler {
        doc,
        schemas: SchemaCompiler::new(doc),
    };
    let mut operations = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (template, item) in paths {
            if template.starts_with('/') {
                c.path_item(template, item, &mut operations);
            }
        }
    }
    if !c.schemas.issues.is_empty() {
        return Err(c.schemas.issues);
    }
    Ok(CompiledValidation {
        operations,
        schemas: c.schemas.schemas,
    })
}
