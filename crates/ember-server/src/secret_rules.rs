//! The rules Phoenix holds `PHOENIX_SECRET` and `PHOENIX_ADMIN_SECRET` to, with Phoenix 20.26's
//! wording (observed: `phoenix serve` refuses to start with each message). A secret is checked
//! whenever it is set, with authentication on or off.

/// Why the secret settings cannot be used, in Phoenix's words; `None` when they can.
pub fn refusal(secret: Option<&str>, admin_secret: Option<&str>, auth_enabled: bool) -> Option<String> {
    match secret {
        Some(secret) => {
            if let Some(problem) = weakness(secret) {
                return Some(problem);
            }
        }
        None if auth_enabled => return Some("`PHOENIX_SECRET` must be set when auth is enabled with `PHOENIX_ENABLE_AUTH`".into()),
        None if admin_secret.is_some() => {
            return Some("`PHOENIX_ADMIN_SECRET` must be not be set without setting `PHOENIX_SECRET`.".into())
        }
        None => {}
    }
    let admin_secret = admin_secret?;
    // Phoenix names the admin secret's weaknesses as the Phoenix secret's.
    weakness(admin_secret)
        .or_else(|| (Some(admin_secret) == secret).then(|| "`PHOENIX_ADMIN_SECRET` must be different from `PHOENIX_SECRET`".into()))
}

/// The rules `secret` breaks, in Phoenix's words.
fn weakness(secret: &str) -> Option<String> {
    ember_service::auth::password_rules::SECRET.violation(secret, "Phoenix secret")
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRONG: &str = "abcdefghijklmnopqrstuvwxyzabcde1";

    #[test]
    fn weak_secrets_are_named_in_phoenix_words() {
        // Each answer is what `phoenix serve` 20.26.1 printed for the same secret.
        for (secret, message) in [
            ("", "Phoenix secret must be non-empty"),
            ("short", "Phoenix secret must be at least 32 characters long, and at least one digit"),
            ("SHORT", "Phoenix secret must be at least 32 characters long, at least one digit, and at least one lowercase letter"),
            ("SHORT1", "Phoenix secret must be at least 32 characters long, and at least one lowercase letter"),
            ("short1", "Phoenix secret must be at least 32 characters long"),
            ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "Phoenix secret at least one digit"),
            ("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF", "Phoenix secret at least one digit, and at least one lowercase letter"),
            ("....................................1", "Phoenix secret at least one lowercase letter"),
        ] {
            assert_eq!(refusal(Some(secret), None, false).as_deref(), Some(message), "{secret:?}");
        }
        assert_eq!(refusal(Some(STRONG), None, true), None);
    }

    #[test]
    fn the_settings_go_together_as_phoenix_requires() {
        assert_eq!(refusal(None, None, false), None, "nothing set, authentication off");
        assert_eq!(
            refusal(None, None, true).as_deref(),
            Some("`PHOENIX_SECRET` must be set when auth is enabled with `PHOENIX_ENABLE_AUTH`")
        );
        assert_eq!(
            refusal(None, Some(STRONG), false).as_deref(),
            Some("`PHOENIX_ADMIN_SECRET` must be not be set without setting `PHOENIX_SECRET`.")
        );
        assert_eq!(
            refusal(Some(STRONG), Some(STRONG), true).as_deref(),
            Some("`PHOENIX_ADMIN_SECRET` must be different from `PHOENIX_SECRET`")
        );
        assert_eq!(
            refusal(Some(STRONG), Some("short"), true).as_deref(),
            Some("Phoenix secret must be at least 32 characters long, and at least one digit")
        );
        assert_eq!(refusal(Some(STRONG), Some("abcdefghijklmnopqrstuvwxyzabcde1x"), true), None);
    }
}
