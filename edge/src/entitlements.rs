//! Authorisation after the key is known: the snapshot's subscription feed is laid over the
//! cached key record (a plan change or a cancellation acts within the refresh window even
//! for records cached before it), then the key's subscription must still run and its
//! plan's entitlements must allow the call. The decisions are `tollgate_core`'s.

use crate::isolate_cache::RoutedSnapshot;
use tollgate_core::entitlement::{entitle, features_header, Call};
use tollgate_core::route::RouteMatch;
use tollgate_core::subscription::{apply_change, check_subscription};
use tollgate_core::version::parse_version;
use tollgate_core::version_route::VersionPick;
use tollgate_core::{KeyRecord, Problem};

/// Brings `record` up to date with the snapshot's subscription feed.
pub fn refresh_record(snapshot: &RoutedSnapshot, record: &mut KeyRecord) {
    let change = record
        .subscription_id
        .as_ref()
        .and_then(|id| snapshot.subscriptions.get(id));
    if let Some(change) = change {
        apply_change(record, change);
    }
}

/// Whether the key may make this call; on success, the `x-tollgate-features` value.
pub fn authorize_call(
    snapshot: &RoutedSnapshot,
    route: &RouteMatch<'_>,
    method: &str,
    record: &KeyRecord,
    now_ms: u64,
) -> Result<Option<String>, Problem> {
    check_subscription(record, now_ms)?;
    let Some(plan) = record
        .plan_id
        .as_ref()
        .and_then(|id| snapshot.entitlements.get(id))
    else {
        return Ok(None);
    };
    let major = match route.version {
        VersionPick::Live(v) => parse_version(&v.version).ok().map(|n| n.major),
        _ => None,
    };
    let call = Call {
        api_id: &route.api.id,
        api_name: &route.api.name,
        major,
        method,
        path: &route.rest,
    };
    entitle(plan, &call)?;
    Ok(features_header(plan))
}
