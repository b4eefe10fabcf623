//! Secrets the accounts keep: TOTP secrets encrypted at rest (AES-256-GCM under a key from
//! `NEOFORGE_TOTP_KEY`), recovery codes and single-use tokens stored only as digests.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Versioned so that a later key rotation can tell old ciphertexts apart.
const PREFIX: &str = "v1:";

/// The at-rest key. Deliberately without `Debug` of its contents.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
    /// Peppers recovery-code digests: a leaked table alone cannot be brute-forced offline.
    pepper: [u8; 32],
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(***)")
    }
}

impl SecretBox {
    /// From `NEOFORGE_TOTP_KEY`: any string; the AES key is its SHA-256, the pepper a second
    /// derivation, so one setting gives two independent keys.
    pub fn new(key: &str) -> Self {
        let aes: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        let pepper: [u8; 32] = Sha256::digest([b"recovery:", key.as_bytes()].concat()).into();
        Self {
            cipher: Aes256Gcm::new(&aes.into()),
            pepper,
        }
    }

    pub fn seal(&self, plaintext: &[u8]) -> Result<String> {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(&Nonce::from(nonce), plaintext)
            .map_err(|_| Error::internal(anyhow::anyhow!("cannot encrypt a secret")))?;
        Ok(format!(
            "{PREFIX}{}",
            STANDARD.encode([&nonce[..], &sealed].concat())
        ))
    }

    pub fn open(&self, sealed: &str) -> Result<Vec<u8>> {
        let undecipherable = || {
            Error::internal(anyhow::anyhow!(
                "a stored TOTP secret cannot be decrypted (was NEOFORGE_TOTP_KEY changed?)"
            ))
        };
        let bytes = sealed
            .strip_prefix(PREFIX)
            .and_then(|b| STANDARD.decode(b).ok())
            .filter(|b| b.len() > 12)
            .ok_or_else(undecipherable)?;
        let (nonce, ciphertext) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| undecipherable())?;
        self.cipher
            .decrypt(&Nonce::from(nonce), ciphertext)
            .map_err(|_| undecipherable())
    }

    /// The stored form of a recovery code (normalised: case and dashes do not matter).
    pub fn recovery_digest(&self, code: &str) -> String {
        let normalised: String = code
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.pepper)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(normalised.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// 256 random bits, base64url: a single-use token for a link or a challenge.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a 256-bit token: a fast hash suffices for that much entropy.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A recovery code: 10 characters of a 31-letter alphabet (49 bits), shown as `xxxxx-xxxxx`.
pub fn recovery_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    let mut code = String::with_capacity(11);
    for i in 0..10 {
        if i == 5 {
            code.push('-');
        }
        let pick = (rng.next_u32() as usize) % ALPHABET.len();
        code.push(char::from(ALPHABET[pick]));
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_key() {
        let key = SecretBox::new("one key of at least thirty-two bytes");
        let sealed = key.seal(b"JBSWY3DPEHPK3PXP").unwrap();
        assert!(!sealed.contains("JBSWY3DP"));
        assert_eq!(key.open(&sealed).unwrap(), b"JBSWY3DPEHPK3PXP");
        let other = SecretBox::new("another key of at least thirty-two b");
        assert!(other.open(&sealed).is_err());
        assert!(key.open("v1:garbage").is_err());
    }

    #[test]
    fn recovery_digests_ignore_case_and_dashes() {
        let key = SecretBox::new("k");
        let code = recovery_code();
        assert_eq!(code.len(), 11);
        assert_eq!(
            key.recovery_digest(&code),
            key.recovery_digest(&code.to_uppercase().replace('-', ""))
        );
        assert_ne!(
            key.recovery_digest(&code),
            SecretBox::new("j").recovery_digest(&code)
        );
    }
}
