//! argon2id password hashing (the `argon2` crate, RustCrypto: maintained, pure Rust, PHC strings).
//! Hashing is CPU-bound and deliberately slow, so it runs on the blocking pool.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{Error, Result};

fn hasher() -> Argon2<'static> {
    // OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash that no password matches, verified when the account does not exist so that a login
/// for an unknown email costs the same time as one with a wrong password.
static DUMMY_HASH: LazyLock<Option<String>> =
    LazyLock::new(|| hash_blocking("neoforge-timing-equaliser").ok());

fn hash_blocking(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::internal(anyhow::anyhow!("argon2 hash failed: {e}")))
}

fn verify_blocking(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            hasher()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

pub async fn hash(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(Error::internal)?
}

/// Verifies `password` against `phc`, or against a dummy hash when there is no account.
pub async fn verify(password: String, phc: Option<String>) -> Result<bool> {
    tokio::task::spawn_blocking(move || match phc {
        Some(phc) => verify_blocking(&password, &phc),
        None => {
            if let Some(dummy) = DUMMY_HASH.as_deref() {
                verify_blocking(&password, dummy);
            }
            false
        }
    })
    .await
    .map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_use_argon2id() {
        let phc = hash("correct horse".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(
            verify("correct horse".into(), Some(phc.clone()))
                .await
                .unwrap()
        );
        assert!(!verify("wrong horse".into(), Some(phc)).await.unwrap());
        assert!(!verify("anything".into(), None).await.unwrap());
        assert!(
            !verify("x".into(), Some("not a phc string".into()))
                .await
                .unwrap()
        );
    }
}
