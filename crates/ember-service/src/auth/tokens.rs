//! Tokens as Phoenix issues them: a JWT signed (HS256) with `PHOENIX_SECRET` whose `jti` names the
//! stored row it stands for (`AccessToken:12`, `RefreshToken:11`, `ApiKey:7`,
//! `PasswordResetToken:3`), plus the row's random nonce. Expiry, holder and role live in the row,
//! so a token is only as good as its row: the signature stops forgery, the row's deletion revokes,
//! and the nonce stops a token of a wiped database from matching a new row with the same id.

use ember_store::TokenKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Claims {
    jti: String,
    nonce: String,
}

/// What a token names: the kind and id of its row, and the nonce it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRef {
    pub kind: TokenKind,
    pub id: i64,
    pub nonce: String,
}

/// Signs and reads tokens with the server secret.
pub struct TokenSigner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSigner")
    }
}

/// Phoenix's name for each kind of row, the prefix of the `jti`.
fn table_name(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Access => "AccessToken",
        TokenKind::Refresh => "RefreshToken",
        TokenKind::ApiKey => "ApiKey",
        TokenKind::PasswordReset => "PasswordResetToken",
    }
}

impl TokenSigner {
    /// `None` for a secret the signing library refuses (an empty one).
    pub fn new(secret: &str) -> Option<TokenSigner> {
        let mut validation = Validation::new(Algorithm::HS256);
        // The row holds the expiry; the token carries only its id.
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        Some(TokenSigner {
            encoding: EncodingKey::from_secret(secret.as_bytes()).ok()?,
            decoding: DecodingKey::from_secret(secret.as_bytes()).ok()?,
            validation,
        })
    }

    /// A fresh random nonce for a new row.
    pub fn nonce() -> String {
        format!("{:032x}", rand::random::<u128>())
    }

    /// The token for a stored row.
    pub fn sign(&self, kind: TokenKind, id: i64, nonce: &str) -> String {
        let claims = Claims { jti: format!("{}:{id}", table_name(kind)), nonce: nonce.to_string() };
        // HS256 over a small struct cannot fail.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).unwrap_or_default()
    }

    /// Any other claims signed with the server secret (an OAuth2 sign-in's `state`).
    pub(crate) fn sign_claims<T: Serialize>(&self, claims: &T) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding).unwrap_or_default()
    }

    /// Claims this server signed with [`TokenSigner::sign_claims`]; `None` for anything else.
    pub(crate) fn read_claims<T: serde::de::DeserializeOwned>(&self, token: &str) -> Option<T> {
        jsonwebtoken::decode::<T>(token, &self.decoding, &self.validation).ok().map(|data| data.claims)
    }

    /// The row a token stands for, if the token is one this server signed.
    pub fn read(&self, token: &str) -> Option<TokenRef> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok()?.claims;
        let (table, id) = claims.jti.split_once(':')?;
        let kind = [TokenKind::Access, TokenKind::Refresh, TokenKind::ApiKey, TokenKind::PasswordReset]
            .into_iter()
            .find(|kind| table_name(*kind) == table)?;
        Some(TokenRef { kind, id: id.parse().ok()?, nonce: claims.nonce })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "abcdefghijklmnopqrstuvwxyzabcde1";

    #[test]
    fn tokens_name_their_row_and_only_this_secret_signs_them() {
        let signer = TokenSigner::new(SECRET).unwrap();
        let token = signer.sign(TokenKind::ApiKey, 7, "n1");
        assert_eq!(signer.read(&token), Some(TokenRef { kind: TokenKind::ApiKey, id: 7, nonce: "n1".into() }));
        assert_eq!(
            signer.read(&signer.sign(TokenKind::Access, 12, "n2")).map(|token| (token.kind, token.id)),
            Some((TokenKind::Access, 12))
        );
        assert_ne!(TokenSigner::nonce(), TokenSigner::nonce());
        assert_eq!(TokenSigner::new("another secret with 1 digit, long enough").unwrap().read(&token), None, "another server's token");
        let (head, _) = token.rsplit_once('.').unwrap();
        assert_eq!(signer.read(&format!("{head}.AAAA")), None, "a forged signature");
        assert_eq!(signer.read("not a token"), None);
    }
}
