//! tollgate-core: every policy decision of the gateway as pure functions over data.
//!
//! No I/O, no clock, no randomness: callers (the edge in workerd, the origin in tokio)
//! pass inputs, state and `now` in and get a decision out, so every rule here is
//! tested natively and behaves the same on wasm32.

pub mod account_token;
pub mod api_key;
pub mod audit;
pub mod cache;
pub mod changelog;
pub mod credential;
pub mod edge_auth;
pub mod entitlement;
pub mod forward;
pub mod http_date;
pub mod ids;
pub mod invoice;
pub mod jwt;
pub mod key_cache;
pub mod limits;
pub mod mtls;
pub mod oauth;
pub mod oidc;
pub mod openapi;
pub mod payment;
pub mod payment_signature;
pub mod policy;
pub mod portal_account;
pub mod postman;
pub mod problem;
pub mod rating;
pub mod rbac;
pub mod route;
pub mod scope;
pub mod shed;
pub mod slo;
pub mod snapshot;
pub mod snippets;
pub mod subscription;
pub mod usage;
pub mod validation;
pub mod version;
pub mod version_route;
pub mod webhook;

pub use api_key::{ApiKey, KeyHash};
pub use ids::{ApiId, ConsumerId, KeyId, PlanId};
pub use problem::{Problem, ProblemKind};
pub use route::RouteTable;
pub use snapshot::{ApiRoute, AuthPolicy, ConfigSnapshot, KeyRecord, KeyStatus};
pub use version::{VersionRoute, VersionStatus};
