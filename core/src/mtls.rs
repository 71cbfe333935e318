//! mTLS client certificates as credentials: Cloudflare verifies the certificate in the
//! TLS handshake (API Shield / mTLS on the zone) and tells the worker in
//! `request.cf.tlsClientAuth`; a consumer registers the certificate's SHA-256
//! fingerprint, stored as a key whose hash is SHA-256 of `mtls:<lower-case hex>`, so the
//! edge finds it with the same look-up, caches and revocation feed as API keys.

use crate::problem::{Problem, ProblemKind};
use crate::KeyHash;

/// The value of `certVerified` for a certificate that chained to a trusted CA.
pub const CERT_VERIFIED_SUCCESS: &str = "SUCCESS";

/// A SHA-256 certificate fingerprint, 64 lower-case hex characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFingerprint(String);

/// Why a fingerprint is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a SHA-256 fingerprint is 64 hex characters, optionally in pairs separated by `:`")]
pub struct FingerprintError;

impl CertFingerprint {
    /// Reads `ab12…` or `AB:12:…`, normalising to lower-case hex without separators.
    pub fn parse(text: &str) -> Result<CertFingerprint, FingerprintError> {
        let text = text.trim();
        let hex: String = if text.contains(':') {
            let pairs: Vec<&str> = text.split(':').collect();
            if pairs.len() != 32 || pairs.iter().any(|p| p.len() != 2) {
                return Err(FingerprintError);
            }
            pairs.concat()
        } else {
            text.to_owned()
        };
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(FingerprintError);
        }
        Ok(CertFingerprint(hex.to_ascii_lowercase()))
    }

    /// The normalised hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key hash a certificate binding is stored and looked up under.
    pub fn key_hash(&self) -> KeyHash {
        KeyHash::of_text(&format!("mtls:{}", self.0))
    }
}

/// What `request.cf.tlsClientAuth` says about the client certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientCertInfo {
    /// `certPresented`: `"1"` when the client sent a certificate.
    pub presented: Option<String>,
    /// `certVerified`: `SUCCESS`, `NONE`, `FAILED:<reason>`.
    pub verified: Option<String>,
    /// `certFingerprintSHA256`.
    pub fingerprint_sha256: Option<String>,
}

/// The fingerprint of a presented, verified certificate, or the 401 to answer.
pub fn admit_client_certificate(info: Option<&ClientCertInfo>) -> Result<CertFingerprint, Problem> {
    let info = info.filter(|i| i.presented.as_deref() == Some("1")).ok_or_else(|| {
        Problem::new(
            ProblemKind::MissingCredential,
            "this API requires a client certificate (mTLS); present the certificate registered for your consumer",
        )
    })?;
    let verified = info.verified.as_deref().unwrap_or("NONE");
    if verified != CERT_VERIFIED_SUCCESS {
        return Err(Problem::new(
            ProblemKind::InvalidCredential,
            format!(
                "the client certificate was not verified (certVerified = {}); it must chain to a CA trusted for this zone",
                verified.chars().take(80).collect::<String>()
            ),
        ));
    }
    info.fingerprint_sha256
        .as_deref()
        .and_then(|f| CertFingerprint::parse(f).ok())
        .ok_or_else(|| {
            Problem::new(
                ProblemKind::InvalidCredential,
                "the client certificate's SHA-256 fingerprint is missing or malformed",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use sha2::{Digest, Sha256};

    const FP: &str = "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b";

    fn info(presented: &str, verified: &str, fp: &str) -> ClientCertInfo {
        ClientCertInfo {
            presented: Some(presented.into()),
            verified: Some(verified.into()),
            fingerprint_sha256: Some(fp.into()),
        }
    }

    #[test]
    fn fingerprints_normalise_and_hash_with_the_mtls_prefix() {
        let colons = FP
            .to_uppercase()
            .as_bytes()
            .chunks(2)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(":");
        let a = CertFingerprint::parse(FP).unwrap();
        assert_eq!(CertFingerprint::parse(&colons).unwrap(), a);
        let expected = hex::encode(Sha256::digest(format!("mtls:{FP}").as_bytes()));
        assert_eq!(a.key_hash().as_str(), expected);
        for bad in [
            "",
            "zz",
            &FP[..63],
            &format!("{FP}0"),
            "3a:7b",
            &FP.replace('a', "g"),
        ] {
            assert!(CertFingerprint::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_presented_verified_certificates_pass() {
        assert_eq!(
            admit_client_certificate(Some(&info("1", "SUCCESS", FP)))
                .unwrap()
                .as_str(),
            FP
        );
        let missing = admit_client_certificate(None).unwrap_err();
        assert_eq!(missing.status, 401);
        assert!(missing.type_uri.ends_with("missing-credential"));
        assert!(admit_client_certificate(Some(&info("0", "NONE", "")))
            .unwrap_err()
            .type_uri
            .ends_with("missing-credential"));
        let failed =
            admit_client_certificate(Some(&info("1", "FAILED:self signed certificate", FP)))
                .unwrap_err();
        assert!(failed.type_uri.ends_with("invalid-credential"));
        assert!(failed.detail.contains("not verified"));
        assert!(
            admit_client_certificate(Some(&info("1", "SUCCESS", "nope")))
                .unwrap_err()
                .type_uri
                .ends_with("invalid-credential")
        );
    }

    proptest! {
        #[test]
        fn any_text_parses_or_is_refused(text in ".{0,100}") {
            if let Ok(fp) = CertFingerprint::parse(&text) {
                prop_assert_eq!(fp.as_str().len(), 64);
            }
        }
    }
}
