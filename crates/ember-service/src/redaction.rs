//! Secret values on the wire. GraphQL answers a secret's value as Phoenix 20 redacts it —
//! `\u{E000}REDACTED\u{E000}<preview>\u{E000}<Fernet token>` — so Phoenix's clients and tests,
//! which hold `PHOENIX_SECRET`, can open it, and nobody else reads it from a response. The Fernet
//! key is PBKDF2-HMAC-SHA256 of `PHOENIX_SECRET` under Phoenix's redaction salt (600,000 rounds,
//! derived once, on first use); without `PHOENIX_SECRET` a random key lives as long as the
//! process. A preview (the last 4 characters) is shown only for values of at least 32 characters.

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE;
use base64::Engine;
use sha2::Sha256;

const DELIMITER: char = '\u{E000}';
const MARKER: &str = "REDACTED";
/// Phoenix's domain-separation salt: the redaction key differs from every other key derived from
/// the same secret, and tokens open with Phoenix's own code.
const SALT: &[u8] = b"phoenix-redaction-2a7f1d9b4e6c8a0f2d3b5c7e9a1f4b6d";
const ROUNDS: u32 = 600_000;
const PREVIEW_CHARS: usize = 4;
const MIN_CHARS_FOR_PREVIEW: usize = 32;

pub struct Redactor {
    secret: Option<String>,
    fernet: OnceLock<fernet::Fernet>,
}

impl Redactor {
    pub fn new(phoenix_secret: Option<&str>) -> Redactor {
        let secret = phoenix_secret.map(str::trim).filter(|secret| !secret.is_empty()).map(str::to_string);
        Redactor { secret, fernet: OnceLock::new() }
    }

    fn fernet(&self) -> &fernet::Fernet {
        self.fernet.get_or_init(|| {
            let key = match &self.secret {
                Some(secret) => {
                    let mut key = [0u8; 32];
                    pbkdf2::pbkdf2_hmac::<Sha256>(secret.as_bytes(), SALT, ROUNDS, &mut key);
                    URL_SAFE.encode(key)
                }
                None => fernet::Fernet::generate_key(),
            };
            // Both keys are 32 bytes in URL-safe base64, which is all Fernet::new asks.
            fernet::Fernet::new(&key).unwrap_or_else(|| unreachable!("a 32-byte key"))
        })
    }

    /// The redacted form of `value` (an empty value stays empty, as in Phoenix).
    pub fn redact(&self, value: &str) -> String {
        if value.is_empty() {
            return String::new();
        }
        let token = self.fernet().encrypt(value.as_bytes());
        let characters = value.chars().count();
        let preview: String =
            if characters >= MIN_CHARS_FOR_PREVIEW { value.chars().skip(characters - PREVIEW_CHARS).collect() } else { String::new() };
        let preview = if preview.contains(DELIMITER) { String::new() } else { preview };
        format!("{DELIMITER}{MARKER}{DELIMITER}{preview}{DELIMITER}{token}")
    }

    /// The value a redacted string holds, or `None` when it is not one this key made.
    pub fn unredact(&self, text: &str) -> Option<String> {
        let rest = text.strip_prefix(DELIMITER)?.strip_prefix(MARKER)?.strip_prefix(DELIMITER)?;
        let (_, token) = rest.split_once(DELIMITER)?;
        String::from_utf8(self.fernet().decrypt(token).ok()?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_with_a_preview_only_when_long() {
        let redactor = Redactor::new(None);
        let short = redactor.redact("sk-short");
        assert!(short.starts_with("\u{E000}REDACTED\u{E000}\u{E000}gAAAA"), "{short:?}");
        assert!(!short.contains("sk-short"));
        assert_eq!(redactor.unredact(&short).as_deref(), Some("sk-short"));
        let long = "x".repeat(28) + "wxyz";
        let redacted = redactor.redact(&long);
        assert!(redacted.starts_with("\u{E000}REDACTED\u{E000}wxyz\u{E000}"), "{redacted:?}");
        assert_eq!(redactor.unredact(&redacted), Some(long));
        assert_eq!(redactor.redact(""), "");
        assert_eq!(Redactor::new(None).unredact(&short), None, "another key cannot open it");
    }

    /// A token Phoenix 20.26.1's `Redactor(SecretStr("phoenix-secret-for-tests-0123456789"))`
    /// made for "hello": ember opens it, so the two derive the same key.
    #[test]
    fn phoenix_tokens_open_with_the_same_secret() {
        let redactor = Redactor::new(Some("phoenix-secret-for-tests-0123456789"));
        assert_eq!(redactor.unredact(PHOENIX_TOKEN).as_deref(), Some("hello"));
    }

    const PHOENIX_TOKEN: &str = "\u{E000}REDACTED\u{E000}\u{E000}gAAAAABrEpAjU_jGSmtxfJPQ-ec3S60GeWI5xRhclFSmLdI0OlGFouozG0UtpSNE_HCi57qtHphzTURFBiMSBc0YYtXUeGGWpQ==";
}
