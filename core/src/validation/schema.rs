//! The compiled JSON Schema node: only the keywords tollgate checks, with short member
//! names because an API's whole schema arena travels in the snapshot.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Index of a schema in its document's arena.
pub type SchemaId = u32;
/// The schema that accepts everything (`{}` or `true`).
pub const ANY: SchemaId = 0;
/// The schema that accepts nothing (`false`).
pub const NEVER: SchemaId = 1;

/// Bits of [`Schema::types`].
pub mod types {
    pub const NULL: u8 = 1;
    pub const BOOLEAN: u8 = 2;
    pub const INTEGER: u8 = 4;
    pub const NUMBER: u8 = 8;
    pub const STRING: u8 = 16;
    pub const ARRAY: u8 = 32;
    pub const OBJECT: u8 = 64;

    /// The bit of a JSON Schema type name.
    pub fn bit(name: &str) -> Option<u8> {
        Some(match name {
            "null" => NULL,
            "boolean" => BOOLEAN,
            "integer" => INTEGER,
            "number" => NUMBER,
            "string" => STRING,
            "array" => ARRAY,
            "object" => OBJECT,
            _ => return None,
        })
    }

    /// Names of the set bits, e.g. `integer or null`.
    pub fn names(set: u8) -> String {
        let all = [
            (NULL, "null"),
            (BOOLEAN, "boolean"),
            (INTEGER, "integer"),
            (NUMBER, "number"),
            (STRING, "string"),
            (ARRAY, "array"),
            (OBJECT, "object"),
        ];
        let names: Vec<&str> = all
            .iter()
            .filter(|(b, _)| set & b != 0)
            .map(|(_, n)| *n)
            .collect();
        names.join(" or ")
    }
}

/// Formats that are checked (others are accepted as annotations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    DateTime,
    Date,
    Email,
    Uuid,
    Uri,
    Int32,
    Int64,
}

impl Format {
    /// The format for a `format` value, if it is one tollgate checks.
    pub fn parse(raw: &str) -> Option<Format> {
        Some(match raw {
            "date-time" => Format::DateTime,
            "date" => Format::Date,
            "email" => Format::Email,
            "uuid" => Format::Uuid,
            "uri" => Format::Uri,
            "int32" => Format::Int32,
            "int64" => Format::Int64,
            _ => return None,
        })
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One compiled schema. Every member is optional; the default accepts everything.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Schema {
    /// Accepts nothing (`false`).
    #[serde(rename = "no", default, skip_serializing_if = "is_false")]
    pub never: bool,
    /// Allowed types as [`types`] bits; 0 allows any type.
    #[serde(rename = "t", default, skip_serializing_if = "is_zero")]
    pub types: u8,
    /// `enum` (and `const`, as an enum of one).
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    pub enumeration: Option<Vec<Value>>,
    #[serde(rename = "r", default, skip_serializing_if = "Vec::is_empty")]
    pub required: Vec<String>,
    #[serde(rename = "p", default, skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<(String, SchemaId)>,
    /// `additionalProperties` (`false` is [`NEVER`]).
    #[serde(rename = "ap", default, skip_serializing_if = "Option::is_none")]
    pub additional: Option<SchemaId>,
    #[serde(rename = "np", default, skip_serializing_if = "Option::is_none")]
    pub min_properties: Option<u64>,
    #[serde(rename = "xp", default, skip_serializing_if = "Option::is_none")]
    pub max_properties: Option<u64>,
    #[serde(rename = "i", default, skip_serializing_if = "Option::is_none")]
    pub items: Option<SchemaId>,
    #[serde(rename = "ni", default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u64>,
    #[serde(rename = "xi", default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u64>,
    #[serde(rename = "u", default, skip_serializing_if = "is_false")]
    pub unique_items: bool,
    #[serde(rename = "nl", default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u64>,
    #[serde(rename = "xl", default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    /// An ECMA-262-style pattern the `regex` crate accepts (searched, not anchored).
    #[serde(rename = "pt", default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    #[serde(rename = "mn", default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<f64>,
    #[serde(rename = "mx", default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<f64>,
    #[serde(rename = "emn", default, skip_serializing_if = "Option::is_none")]
    pub exclusive_minimum: Option<f64>,
    #[serde(rename = "emx", default, skip_serializing_if = "Option::is_none")]
    pub exclusive_maximum: Option<f64>,
    #[serde(rename = "mo", default, skip_serializing_if = "Option::is_none")]
    pub multiple_of: Option<f64>,
    #[serde(rename = "f", default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
    #[serde(rename = "all", default, skip_serializing_if = "Vec::is_empty")]
    pub all_of: Vec<SchemaId>,
    #[serde(rename = "any", default, skip_serializing_if = "Vec::is_empty")]
    pub any_of: Vec<SchemaId>,
    #[serde(rename = "one", default, skip_serializing_if = "Vec::is_empty")]
    pub one_of: Vec<SchemaId>,
    #[serde(rename = "not", default, skip_serializing_if = "Option::is_none")]
    pub not: Option<SchemaId>,
}

fn is_zero(v: &u8) -> bool {
    *v == 0
}

impl Schema {
    /// Whether this schema accepts everything (compiles to [`ANY`]).
    pub fn is_any(&self) -> bool {
        *self == Schema::default()
    }
}
