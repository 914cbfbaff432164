//! Secrets at rest. With `PHOENIX_SECRET` set, a secret's value is sealed with
//! ChaCha20-Poly1305 under a key derived from it (HKDF-SHA256) before it is written, so the
//! database alone does not give the provider keys away; without it, values are kept as given.
//! Stored text says which: `sealed:<base64 nonce and ciphertext>` or `plain:<value>`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use rand::RngCore;
use sha2::Sha256;

const SEALED: &str = "sealed:";
const PLAIN: &str = "plain:";
const NONCE_BYTES: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsealError {
    #[error("it was sealed with PHOENIX_SECRET, which is not set")]
    NoKey,
    #[error("it was sealed with another PHOENIX_SECRET")]
    WrongKey,
    #[error("its stored form is not one ember writes")]
    Malformed,
}

#[derive(Clone)]
pub struct SecretBox {
    cipher: Option<ChaCha20Poly1305>,
}

impl SecretBox {
    /// A box sealing with a key derived from `secret`, or keeping values plain without one.
    pub fn new(secret: Option<&str>) -> SecretBox {
        let cipher = secret.map(str::trim).filter(|secret| !secret.is_empty()).map(|secret| {
            let mut key = [0u8; 32];
            // A 32-byte output is always within HKDF-SHA256's limit.
            let _ = Hkdf::<Sha256>::new(Some(b"ember secrets"), secret.as_bytes()).expand(b"chacha20poly1305 v1", &mut key);
            ChaCha20Poly1305::new(Key::from_slice(&key))
        });
        SecretBox { cipher }
    }

    /// The text to store for `value`; `None` only if the cipher refuses it (a value of many
    /// gigabytes).
    pub fn seal(&self, value: &str) -> Option<String> {
        let Some(cipher) = &self.cipher else { return Some(format!("{PLAIN}{value}")) };
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = cipher.encrypt(Nonce::from_slice(&nonce), value.as_bytes()).ok()?;
        Some(format!("{SEALED}{}", STANDARD.encode([nonce.as_slice(), &ciphertext].concat())))
    }

    /// The value stored as `stored`.
    pub fn open(&self, stored: &str) -> Result<String, UnsealError> {
        if let Some(value) = stored.strip_prefix(PLAIN) {
            return Ok(value.to_string());
        }
        let encoded = stored.strip_prefix(SEALED).ok_or(UnsealError::Malformed)?;
        let cipher = self.cipher.as_ref().ok_or(UnsealError::NoKey)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| UnsealError::Malformed)?;
        if bytes.len() < NONCE_BYTES {
            return Err(UnsealError::Malformed);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let plaintext = cipher.decrypt(Nonce::from_slice(nonce), ciphertext).map_err(|_| UnsealError::WrongKey)?;
        String::from_utf8(plaintext).map_err(|_| UnsealError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_secret() {
        let sealing = SecretBox::new(Some("a long phoenix secret"));
        let stored = sealing.seal("sk-123").unwrap();
        assert!(stored.starts_with(SEALED) && !stored.contains("sk-123"), "{stored}");
        assert_ne!(Some(stored.clone()), sealing.seal("sk-123"), "each seal has its own nonce");
        assert_eq!(sealing.open(&stored).unwrap(), "sk-123");
        assert_eq!(SecretBox::new(Some("another secret")).open(&stored), Err(UnsealError::WrongKey));
        assert_eq!(SecretBox::new(None).open(&stored), Err(UnsealError::NoKey));
        assert_eq!(sealing.open("sealed:!!"), Err(UnsealError::Malformed));
        assert_eq!(sealing.open("sk-123"), Err(UnsealError::Malformed));
    }

    #[test]
    fn without_a_secret_values_are_kept_plain_and_still_read_with_one() {
        let plain = SecretBox::new(None).seal("sk-123").unwrap();
        assert_eq!(plain, "plain:sk-123");
        assert_eq!(SecretBox::new(Some("s")).open(&plain).unwrap(), "sk-123");
        assert_eq!(SecretBox::new(Some("  ")).seal("x").as_deref(), Some("plain:x"));
    }
}
