//! Signing the plan chain (Ed25519): CI signs the chain it checked, the migration Job
//! verifies the signature with the public key from the chart's values before it applies
//! anything. `plans/strata.sig` holds the signature over every plan of the chain, in
//! order: its id, the checksum of its head and a digest of its review.
//!
//! What each layer protects against (see the runbook's threat model): `strata.sum` makes
//! edits visible and makes concurrent plans conflict in git; re-deriving a plan refuses SQL
//! strata would not have planned; the signature refuses any plan chain that did not pass
//! through the CI that holds the key, whatever its content.

use base64::Engine as _;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};
use sha2::{Digest, Sha256};

use super::PlanFile;

/// The signature file's name in the plans directory.
pub const FILE: &str = "strata.sig";

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Why a chain's signature does not hold.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SignatureError(pub String);

/// The bytes signed for a chain.
pub fn message(order: &[&PlanFile]) -> String {
    let mut out = String::from("strata plan chain v1\n");
    for plan in order {
        let review = serde_json::to_string(&plan.review).unwrap_or_default();
        let digest = hex::encode(Sha256::digest(review.as_bytes()));
        out.push_str(&format!(
            "{} {} review:sha256:{digest}\n",
            plan.head.id, plan.checksum
        ));
    }
    out
}

fn digest(message: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(message.as_bytes())))
}

/// A new key pair: (private key as base64 PKCS#8, public key as base64).
pub fn generate() -> Result<(String, String), SignatureError> {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng)
        .map_err(|_| SignatureError("cannot generate a key".into()))?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
        .map_err(|_| SignatureError("cannot read the generated key".into()))?;
    Ok((
        B64.encode(pkcs8.as_ref()),
        B64.encode(pair.public_key().as_ref()),
    ))
}

/// The text of `strata.sig` for a chain, signed with a base64 PKCS#8 private key.
pub fn sign(order: &[&PlanFile], private_key: &str) -> Result<String, SignatureError> {
    let pkcs8 = B64
        .decode(private_key.trim())
        .map_err(|_| SignatureError("the signing key is not base64".into()))?;
    let pair = Ed25519KeyPair::from_pkcs8(&pkcs8)
        .map_err(|_| SignatureError("the signing key is not an Ed25519 PKCS#8 key".into()))?;
    let message = message(order);
    let signature = pair.sign(message.as_bytes());
    Ok(format!(
        "# plans/strata.sig: written by `strata sign`. The Ed25519 signature of the plan chain.\n\
         key {}\nchain {}\nsignature {}\n",
        B64.encode(pair.public_key().as_ref()),
        digest(&message),
        B64.encode(signature.as_ref())
    ))
}

/// Verifies `strata.sig` (its text) for a chain against a base64 public key.
pub fn verify(order: &[&PlanFile], sig_text: &str, public_key: &str) -> Result<(), SignatureError> {
    let key = B64
        .decode(public_key.trim())
        .map_err(|_| SignatureError("the verifying key is not base64".into()))?;
    let field = |name: &str| {
        sig_text
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .map(str::trim)
    };
    let signature = field("signature")
        .and_then(|s| B64.decode(s).ok())
        .ok_or_else(|| SignatureError("plans/strata.sig holds no signature".into()))?;
    let message = message(order);
    if field("chain") != Some(digest(&message).as_str()) {
        return Err(SignatureError(
            "plans/strata.sig was made for another plan chain (a plan was added, removed or \
             changed since it was signed)"
                .into(),
        ));
    }
    UnparsedPublicKey::new(&ED25519, &key)
        .verify(message.as_bytes(), &signature)
        .map_err(|_| {
            SignatureError(
                "the signature in plans/strata.sig does not verify with the configured public \
                 key (signed with another key, or edited)"
                    .into(),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::planfile::PlanHead;

    fn plan(id: &str) -> PlanFile {
        let head = PlanHead {
            format: crate::planfile::FORMAT,
            id: id.into(),
            ..PlanHead::default()
        };
        PlanFile::parse(&PlanFile::render(&head)).unwrap()
    }

    #[test]
    fn a_signed_chain_verifies_and_any_change_does_not() {
        let (private, public) = generate().unwrap();
        let (a, b) = (plan("1_a"), plan("2_b"));
        let sig = sign(&[&a, &b], &private).unwrap();
        assert_eq!(verify(&[&a, &b], &sig, &public), Ok(()));
        // Another chain, another key, an edited review, an edited signature.
        assert!(verify(&[&a], &sig, &public).is_err());
        let (_, other) = generate().unwrap();
        assert!(verify(&[&a, &b], &sig, &other).is_err());
        let mut reviewed = b.clone();
        reviewed.review.revert_acknowledged = vec![crate::plan::Hazard::DataLoss];
        assert!(verify(&[&a, &reviewed], &sig, &public).is_err());
        let forged = sig.replace("signature ", "signature A");
        assert!(verify(&[&a, &b], &forged, &public).is_err());
    }
}
