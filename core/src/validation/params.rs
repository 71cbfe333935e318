//! Parameters: what the compiled form keeps of an OpenAPI parameter, and turning the raw
//! text of a path segment, query string or header into the JSON value its schema is
//! checked against (OpenAPI's `style`/`explode` rules for primitives and arrays of
//! primitives; object-valued parameters are checked for presence only).

use super::schema::{types, Schema, SchemaId, ANY};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where a parameter is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Location {
    Path,
    Query,
    Header,
    Cookie,
}

impl Location {
    /// The first pointer token of this location (`/query/…`).
    pub fn token(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
            Location::Header => "header",
            Location::Cookie => "cookie",
        }
    }
}

/// How array values are separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Style {
    /// Query default: `a=1&a=2` (explode) or `a=1,2`.
    #[default]
    Form,
    /// Path and header default: `1,2`.
    Simple,
    SpaceDelimited,
    PipeDelimited,
    /// Objects: not decoded (presence only).
    Other,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One parameter of an operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Param {
    /// As declared; header names are lower-cased.
    pub name: String,
    #[serde(rename = "in")]
    pub location: Location,
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    #[serde(rename = "s", default)]
    pub schema: SchemaId,
    #[serde(default)]
    pub style: Style,
    #[serde(default, skip_serializing_if = "is_false")]
    pub explode: bool,
    /// Sent as JSON text (`content: application/json` instead of `schema`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub json: bool,
}

/// The type bits of schema `id`, looking through a lone `allOf` wrapper (a `$ref` with
/// siblings, or an aliased schema).
pub fn effective_types(schemas: &[Schema], mut id: SchemaId) -> u8 {
    for _ in 0..8 {
        let Some(s) = schemas.get(id as usize) else {
            return 0;
        };
        if s.types != 0 || s.all_of.is_empty() {
            return s.types;
        }
        id = s.all_of[0];
    }
    0
}

fn items_of(schemas: &[Schema], mut id: SchemaId) -> SchemaId {
    for _ in 0..8 {
        let Some(s) = schemas.get(id as usize) else {
            return ANY;
        };
        if let Some(items) = s.items {
            return items;
        }
        match s.all_of.first() {
            Some(&next) => id = next,
            None => return ANY,
        }
    }
    ANY
}

/// The JSON value of one raw text for a schema with type bits `set`: a number or boolean
/// when the text reads as one the schema allows, else the string (whose type the schema
/// check then refuses with a clear reason).
pub fn coerce(raw: &str, set: u8) -> Value {
    if set & types::INTEGER != 0 {
        if let Ok(i) = raw.parse::<i64>() {
            return Value::from(i);
        }
    }
    if set & types::NUMBER != 0 {
        if let Some(n) = raw
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
        {
            if raw
                .bytes()
                .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
            {
                return Value::Number(n);
            }
        }
    }
    if set & types::BOOLEAN != 0 && (raw == "true" || raw == "false") {
        return Value::Bool(raw == "true");
    }
    if set & types::NULL != 0 && raw.is_empty() && set & types::STRING == 0 {
        return Value::Null;
    }
    Value::String(raw.to_owned())
}

/// The value to check for `param`, from its raw occurrences (several only for a
/// repeated query parameter). `Err` is a reason: the text cannot be read at all.
pub fn decode(param: &Param, schemas: &[Schema], raws: &[&str]) -> Result<Option<Value>, String> {
    if param.json {
        let raw = raws.first().copied().unwrap_or_default();
        return serde_json::from_str(raw)
            .map(Some)
            .map_err(|_| "must be JSON text".to_owned());
    }
    let set = effective_types(schemas, param.schema);
    if set & types::OBJECT != 0 || param.style == Style::Other {
        return Ok(None);
    }
    if set & types::ARRAY != 0 {
        let item_types = effective_types(schemas, items_of(schemas, param.schema));
        let sep = match (param.location, param.style) {
            (Location::Query, Style::Form) if param.explode => None,
            (_, Style::SpaceDelimited) => Some(' '),
            (_, Style::PipeDelimited) => Some('|'),
            _ => Some(','),
        };
        let parts: Vec<&str> = match sep {
            None => raws.to_vec(),
            Some(sep) => raws.iter().flat_map(|r| r.split(sep)).collect(),
        };
        let parts = parts.into_iter().filter(|p| !p.is_empty());
        return Ok(Some(Value::Array(
            parts.map(|p| coerce(p, item_types)).collect(),
        )));
    }
    match raws {
        [one] => Ok(Some(coerce(one, set))),
        [] => Ok(None),
        _ => Err(format!("must be sent once, not {} times", raws.len())),
    }
}

/// Decodes `%XX` escapes (and `+` as space when `plus` is set); bytes that do not form
/// UTF-8 become U+FFFD, which a schema then judges as any other character.
pub fn percent_decode(raw: &str, plus: bool) -> String {
    if !raw.contains(['%', '+']) {
        return raw.to_owned();
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) if plus => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `a=1&b=x+y` as decoded (name, value) pairs, in order.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}
