//! Which limits apply to a request, grouped by subject: a key's plan plus any limits set
//! on the API (or on every API). Each subject names one limiter object, so one round
//! trip decides all of that subject's policies at once.

use super::{LimitPolicy, PlanLimits, ScopedLimit, Subject};
use crate::{ApiId, KeyRecord};

/// What a request is known by when its limits are chosen.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub api_id: &'a ApiId,
    /// The verified key (none on a pass-through route).
    pub key: Option<&'a KeyRecord>,
    /// The client address as the platform reports it.
    pub ip: Option<&'a str>,
}

/// The policies of one subject, and the stable name of its limiter object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectLimits {
    /// e.g. `key:key_…`, `consumer:con_…`, `ip:203.0.113.9`, `api:api_…`.
    pub subject: String,
    pub policies: Vec<LimitPolicy>,
}

/// The subject name of `kind` for `caller`, or `None` when the request has no such
/// identity (a key-scoped limit on an unauthenticated route does not apply).
pub fn subject_name(kind: Subject, caller: &Caller<'_>) -> Option<String> {
    match kind {
        // Keys rotated from one another share one identity, so they share their counters.
        Subject::Key => caller.key.map(|k| format!("key:{}", k.identity())),
        Subject::Consumer => caller.key.map(|k| format!("consumer:{}", k.consumer_id)),
        Subject::Ip => Some(format!("ip:{}", caller.ip.unwrap_or("unknown"))),
        Subject::Api => Some(format!("api:{}", caller.api_id)),
    }
}

/// Every limit that applies to `caller`, grouped by subject in a stable order.
pub fn limits_for(
    plans: &[PlanLimits],
    scoped: &[ScopedLimit],
    caller: &Caller<'_>,
) -> Vec<SubjectLimits> {
    let plan = caller
        .key
        .and_then(|k| k.plan_id.as_ref())
        .and_then(|id| plans.iter().find(|p| &p.plan_id == id));
    let from_plan = plan.into_iter().flat_map(|p| p.policies.iter());
    let from_scope = scoped
        .iter()
        .filter(|s| s.api_id.as_ref().is_none_or(|id| id == caller.api_id))
        .map(|s| &s.policy);
    let mut out: Vec<SubjectLimits> = Vec::new();
    for policy in from_plan.chain(from_scope) {
        let Some(subject) = subject_name(policy.subject, caller) else {
            continue;
        };
        match out.iter_mut().find(|s| s.subject == subject) {
            Some(s) => s.policies.push(policy.clone()),
            None => out.push(SubjectLimits {
                subject,
                policies: vec![policy.clone()],
            }),
        }
    }
    out.sort_by(|a, b| a.subject.cmp(&b.subject));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConsumerId, KeyHash, KeyId, KeyStatus};

    fn key(id: &str, identity: Option<&str>) -> KeyRecord {
        KeyRecord {
            key_id: KeyId::from(id),
            key_hash: KeyHash::parse(&"b".repeat(64)).unwrap(),
            consumer_id: ConsumerId::from("con_1"),
            api_id: ApiId::from("api_1"),
            plan_id: None,
            status: KeyStatus::Active,
            expires_at_ms: None,
            identity: identity.map(str::to_owned),
            scopes: Vec::new(),
            subscription_id: None,
            subscription_ends_at_ms: None,
        }
    }

    #[test]
    fn rotated_keys_share_one_key_subject() {
        let api = ApiId::from("api_1");
        let (old, new) = (
            key("key_old", Some("key_old")),
            key("key_new", Some("key_old")),
        );
        let name = |k: &KeyRecord| {
            subject_name(
                Subject::Key,
                &Caller {
                    api_id: &api,
                    key: Some(k),
                    ip: None,
                },
            )
        };
        assert_eq!(name(&old), name(&new));
        assert_eq!(name(&old).as_deref(), Some("key:key_old"));
        assert_eq!(
            name(&key("key_legacy", None)).as_deref(),
            Some("key:key_legacy")
        );
    }

    #[test]
    fn subjects_without_an_identity_do_not_apply() {
        let api = ApiId::from("api_1");
        let anonymous = Caller {
            api_id: &api,
            key: None,
            ip: None,
        };
        assert_eq!(subject_name(Subject::Key, &anonymous), None);
        assert_eq!(subject_name(Subject::Consumer, &anonymous), None);
        assert_eq!(
            subject_name(Subject::Ip, &anonymous).as_deref(),
            Some("ip:unknown")
        );
        assert_eq!(
            subject_name(Subject::Api, &anonymous).as_deref(),
            Some("api:api_1")
        );
    }
}
