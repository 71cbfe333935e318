//! Who is calling the admin API and which organisation's data they see.
//!
//! The platform operator's admin token sees everything (or one organisation, with
//! `X-Tollgate-Org`); a user's token (`tgu_…`) sees only the organisation it acts for,
//! with the permissions of its role there. Resources of another organisation answer 404,
//! never 403, so their existence does not leak.

pub mod access;
pub mod admin;
pub mod scope;
pub mod teams;

use tollgate_core::rbac::{allows, Permission, Role};

/// The header that picks the organisation a request acts for.
pub const ORG_HEADER: &str = "x-tollgate-org";

/// Whose data a request may touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tenant {
    /// The platform operator without an organisation: everything.
    Platform,
    /// One organisation, with the caller's role in it.
    Org { id: String, role: Role },
}

/// Who performed an admin request; set by the auth middleware as a request extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// For the audit log: `admin-token` or a user id.
    pub who: String,
    pub tenant: Tenant,
}

impl Actor {
    /// The operator holding the admin token, acting for the whole platform.
    pub fn admin_token() -> Actor {
        Actor {
            who: "admin-token".to_owned(),
            tenant: Tenant::Platform,
        }
    }

    /// The organisation whose data this request sees; `None` for the whole platform.
    pub fn org_id(&self) -> Option<&str> {
        match &self.tenant {
            Tenant::Platform => None,
            Tenant::Org { id, .. } => Some(id),
        }
    }

    /// Whether the caller may do `permission`.
    pub fn may(&self, permission: Permission) -> bool {
        match &self.tenant {
            Tenant::Platform => true,
            Tenant::Org { role, .. } => allows(*role, permission),
        }
    }

    /// Whether the caller is the platform operator (some endpoints are platform-only).
    pub fn is_platform(&self) -> bool {
        self.who == "admin-token"
    }
}
