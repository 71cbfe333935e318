//! The snapshot's validations indexed by API and version, each with its prepared
//! [`Validator`], built once per snapshot by the edge.

use super::request::Validator;
use super::{ApiValidation, RequestMode, ResponseMode};
use crate::ApiId;
use std::collections::HashMap;

/// An API version's settings with its prepared validator.
#[derive(Debug)]
pub struct ApiValidator {
    pub version: Option<String>,
    pub requests: RequestMode,
    pub responses: ResponseMode,
    pub max_body_bytes: u64,
    pub validator: Validator,
}

/// The snapshot's validations by API and version, prepared once per snapshot.
#[derive(Debug, Default)]
pub struct ValidationIndex {
    by_api: HashMap<ApiId, Vec<ApiValidator>>,
}

impl ValidationIndex {
    /// Prepares every entry (compiling patterns once).
    pub fn new(list: Vec<ApiValidation>) -> ValidationIndex {
        let mut by_api: HashMap<ApiId, Vec<ApiValidator>> = HashMap::new();
        for v in list {
            by_api.entry(v.api_id).or_default().push(ApiValidator {
                version: v.version,
                requests: v.requests,
                responses: v.responses,
                max_body_bytes: v.max_body_bytes,
                validator: Validator::new(v.spec),
            });
        }
        ValidationIndex { by_api }
    }

    /// The validation of `api` at `version` (`None`: routed without a version).
    pub fn get(&self, api: &ApiId, version: Option<&str>) -> Option<&ApiValidator> {
        self.by_api
            .get(api)?
            .iter()
            .find(|v| v.version.as_deref() == version)
    }

    /// Whether no API validates.
    pub fn is_empty(&self) -> bool {
        self.by_api.is_empty()
    }
}
