//! mTLS at the edge: Cloudflare verified the client certificate during the handshake and
//! reports it in `request.cf.tlsClientAuth`; the certificate's fingerprint is a
//! credential found through the key path (`tollgate_core::mtls`: its key hash), so the
//! revocation feed, caches, subscriptions and limits apply as to API keys.

use crate::config::EdgeConfig;
use crate::entitlements::refresh_record;
use crate::isolate_cache::RoutedSnapshot;
use crate::key_store::find_key;
use tollgate_core::mtls::{admit_client_certificate, ClientCertInfo};
use tollgate_core::{KeyRecord, KeyStatus, Problem, ProblemKind};
use worker::js_sys::Reflect;
use worker::wasm_bindgen::JsValue;
use worker::{Env, Request};

/// `request.cf.tlsClientAuth`, read member by member: a missing `cf`, object or member is
/// `None`, never a trap (workers-rs' typed getters unwrap and would abort the isolate).
pub fn client_cert_info(req: &Request) -> Option<ClientCertInfo> {
    let cf = Reflect::get(req.inner(), &JsValue::from_str("cf")).ok()?;
    if !cf.is_object() {
        return None;
    }
    let auth = Reflect::get(&cf, &JsValue::from_str("tlsClientAuth")).ok()?;
    if !auth.is_object() {
        return None;
    }
    let text = |name: &str| {
        Reflect::get(&auth, &JsValue::from_str(name))
            .ok()
            .and_then(|v| v.as_string().or_else(|| v.as_f64().map(|n| format!("{n}"))))
    };
    Some(ClientCertInfo {
        presented: text("certPresented"),
        verified: text("certVerified"),
        fingerprint_sha256: text("certFingerprintSHA256"),
    })
}

/// The key record the request's verified client certificate is registered as.
pub async fn authenticate_certificate(
    req: &Request,
    env: &Env,
    cfg: &EdgeConfig,
    snapshot: &RoutedSnapshot,
) -> Result<KeyRecord, Problem> {
    let fingerprint = admit_client_certificate(client_cert_info(req).as_ref())?;
    let hash = fingerprint.key_hash();
    let revoked = || {
        Problem::new(
            ProblemKind::RevokedCredential,
            "this client certificate's registration was revoked; register the certificate again or use another",
        )
    };
    if snapshot.revoked.contains(&hash) {
        return Err(revoked());
    }
    let mut record = find_key(env, cfg, &hash).await?.ok_or_else(|| {
        Problem::new(
            ProblemKind::InvalidCredential,
            format!(
                "no consumer registered the client certificate with SHA-256 fingerprint {}; register it first",
                fingerprint.as_str()
            ),
        )
    })?;
    if record.status == KeyStatus::Revoked {
        return Err(revoked());
    }
    refresh_record(snapshot, &mut record);
    Ok(record)
}
