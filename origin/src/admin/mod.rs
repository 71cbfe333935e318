//! The admin API (`/admin/v1/…`): operators manage APIs and their versions, consumers,
//! plans and keys and read usage. One module per resource; request checks shared by them live in `fields`.

pub mod api_setting;
pub mod api_settings;
pub mod api_updates;
pub mod apis;
pub mod cache;
pub mod cache_purge;
pub mod certificates;
pub mod consumers;
pub mod edge_feeds;
pub mod fields;
pub mod jwt_auth;
pub mod key_lifecycle;
pub mod key_owner;
pub mod key_views;
pub mod keys;
pub mod limits;
pub mod plan_limits;
pub mod plan_price;
pub mod plan_terms;
pub mod plan_updates;
pub mod plans;
pub mod policies;
pub mod shedding;
pub mod spec_upload;
pub mod subscription_changes;
pub mod subscription_rows;
pub mod subscriptions;
pub mod upstream_auth;
pub mod usage;
pub mod validation;
pub mod validation_feed;
pub mod version_docs;
pub mod version_lifecycle;
pub mod version_store;
pub mod versions;
