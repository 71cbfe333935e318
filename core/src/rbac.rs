//! Roles and what they may do, as one table: every admin and portal endpoint names the
//! permission it needs and asks [`allows`]. Kept pure so the matrix is tested directly.

use serde::{Deserialize, Serialize};

/// A member's role in an organisation (a provider tenant or a consumer team).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Admin,
    Developer,
    Billing,
    Viewer,
}

/// Something an endpoint does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    CatalogRead,
    CatalogWrite,
    PlansRead,
    PlansWrite,
    ConsumersRead,
    ConsumersWrite,
    KeysRead,
    KeysWrite,
    UsageRead,
    BillingRead,
    BillingWrite,
    AuditRead,
    MembersRead,
    MembersWrite,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 5] = [
        Role::Owner,
        Role::Admin,
        Role::Developer,
        Role::Billing,
        Role::Viewer,
    ];

    /// Parses `owner`, `admin`, `developer`, `billing` or `viewer`.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Developer => "developer",
            Role::Billing => "billing",
            Role::Viewer => "viewer",
        }
    }
}

/// Whether `role` may do `permission`.
pub fn allows(role: Role, permission: Permission) -> bool {
    use Permission::*;
    match role {
        Role::Owner | Role::Admin => true,
        Role::Developer => matches!(
            permission,
            CatalogRead
                | CatalogWrite
                | PlansRead
                | ConsumersRead
                | ConsumersWrite
                | KeysRead
                | KeysWrite
                | UsageRead
                | MembersRead
        ),
        Role::Billing => matches!(
            permission,
            CatalogRead
                | PlansRead
                | PlansWrite
                | ConsumersRead
                | UsageRead
                | BillingRead
                | BillingWrite
                | MembersRead
        ),
        Role::Viewer => matches!(
            permission,
            CatalogRead | PlansRead | ConsumersRead | KeysRead | UsageRead | MembersRead
        ),
    }
}

/// Whether a member with `granter` may give someone `role` (only owners make owners).
pub fn may_grant(granter: Role, role: Role) -> bool {
    allows(granter, Permission::MembersWrite) && (role != Role::Owner || granter == Role::Owner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Permission::*;

    const EVERY: [Permission; 14] = [
        CatalogRead,
        CatalogWrite,
        PlansRead,
        PlansWrite,
        ConsumersRead,
        ConsumersWrite,
        KeysRead,
        KeysWrite,
        UsageRead,
        BillingRead,
        BillingWrite,
        AuditRead,
        MembersRead,
        MembersWrite,
    ];

    #[test]
    fn owners_and_admins_may_do_everything() {
        for p in EVERY {
            assert!(allows(Role::Owner, p) && allows(Role::Admin, p), "{p:?}");
        }
    }

    #[test]
    fn viewers_only_read_and_never_the_audit_log() {
        for p in EVERY {
            let is_read = format!("{p:?}").ends_with("Read");
            if allows(Role::Viewer, p) {
                assert!(is_read, "viewer may {p:?}");
            }
        }
        assert!(!allows(Role::Viewer, AuditRead));
        assert!(!allows(Role::Viewer, BillingRead));
    }

    #[test]
    fn each_role_is_a_subset_of_admin_and_separated_by_duty() {
        assert!(allows(Role::Developer, KeysWrite) && !allows(Role::Developer, BillingRead));
        assert!(allows(Role::Billing, BillingWrite) && !allows(Role::Billing, KeysWrite));
        assert!(!allows(Role::Developer, MembersWrite) && !allows(Role::Billing, MembersWrite));
    }

    #[test]
    fn only_owners_make_owners() {
        assert!(may_grant(Role::Owner, Role::Owner));
        assert!(!may_grant(Role::Admin, Role::Owner));
        assert!(may_grant(Role::Admin, Role::Developer));
        assert!(!may_grant(Role::Developer, Role::Viewer));
    }

    #[test]
    fn roles_round_trip_by_name() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
