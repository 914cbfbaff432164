//! The authentication settings, with Phoenix's names and defaults.

/// Phoenix's defaults.
pub const ACCESS_TOKEN_EXPIRY_MINUTES: f64 = 10.0;
pub const REFRESH_TOKEN_EXPIRY_MINUTES: f64 = 60.0 * 24.0 * 7.0;
pub const PASSWORD_RESET_TOKEN_EXPIRY_MINUTES: f64 = 15.0;
pub const DEFAULT_ADMIN_INITIAL_PASSWORD: &str = "admin";
pub const BRUTE_FORCE_MAX_ATTEMPTS: u32 = 5;

/// How sign-in, sessions and passwords behave once `PHOENIX_ENABLE_AUTH` is on.
#[derive(Debug, Clone, clap::Args)]
pub struct AuthSettings {
    /// Minutes a session's access token lasts (the browser refreshes it with the refresh token).
    #[arg(long, env = "PHOENIX_ACCESS_TOKEN_EXPIRY_MINUTES", default_value_t = ACCESS_TOKEN_EXPIRY_MINUTES)]
    pub access_token_expiry_minutes: f64,

    /// Minutes a session lasts without signing in again.
    #[arg(long, env = "PHOENIX_REFRESH_TOKEN_EXPIRY_MINUTES", default_value_t = REFRESH_TOKEN_EXPIRY_MINUTES)]
    pub refresh_token_expiry_minutes: f64,

    /// Minutes a password-reset link stays valid.
    #[arg(long, env = "PHOENIX_PASSWORD_RESET_TOKEN_EXPIRY_MINUTES", default_value_t = PASSWORD_RESET_TOKEN_EXPIRY_MINUTES)]
    pub password_reset_token_expiry_minutes: f64,

    /// The default `admin` user's first password (it must be changed at first sign-in).
    #[arg(long, env = "PHOENIX_DEFAULT_ADMIN_INITIAL_PASSWORD", hide_env_values = true, default_value = DEFAULT_ADMIN_INITIAL_PASSWORD)]
    pub default_admin_initial_password: String,

    /// Admins created at startup: `Name=email;Name2=email2` (each must set a password before
    /// signing in with one).
    #[arg(long, env = "PHOENIX_ADMINS")]
    pub admins: Option<String>,

    /// Refuse sign-in with email and password (only single sign-on signs in).
    #[arg(long, env = "PHOENIX_DISABLE_BASIC_AUTH", default_value_t = false)]
    pub disable_basic_auth: bool,

    /// Passwords of at least 12 characters with a digit, a lowercase and an uppercase letter and
    /// one of `!@#$%^&*()_+`.
    #[arg(long, env = "PHOENIX_ENABLE_STRONG_PASSWORD_POLICY", default_value_t = false)]
    pub enable_strong_password_policy: bool,

    /// Do not lock an email out after repeated failed sign-ins.
    #[arg(long, env = "PHOENIX_DISABLE_BRUTE_FORCE_LOGIN_PROTECTION", default_value_t = false)]
    pub disable_brute_force_login_protection: bool,

    /// Failed sign-ins for one email within five minutes before it is locked out for five minutes.
    #[arg(long, env = "PHOENIX_BRUTE_FORCE_LOGIN_PROTECTION_MAX_ATTEMPTS", default_value_t = BRUTE_FORCE_MAX_ATTEMPTS)]
    pub brute_force_login_protection_max_attempts: u32,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            access_token_expiry_minutes: ACCESS_TOKEN_EXPIRY_MINUTES,
            refresh_token_expiry_minutes: REFRESH_TOKEN_EXPIRY_MINUTES,
            password_reset_token_expiry_minutes: PASSWORD_RESET_TOKEN_EXPIRY_MINUTES,
            default_admin_initial_password: DEFAULT_ADMIN_INITIAL_PASSWORD.into(),
            admins: None,
            disable_basic_auth: false,
            enable_strong_password_policy: false,
            disable_brute_force_login_protection: false,
            brute_force_login_protection_max_attempts: BRUTE_FORCE_MAX_ATTEMPTS,
        }
    }
}

impl AuthSettings {
    /// Why these settings cannot be used; `None` when they can.
    pub fn refusal(&self) -> Option<String> {
        let expiries = [
            ("PHOENIX_ACCESS_TOKEN_EXPIRY_MINUTES", self.access_token_expiry_minutes),
            ("PHOENIX_REFRESH_TOKEN_EXPIRY_MINUTES", self.refresh_token_expiry_minutes),
            ("PHOENIX_PASSWORD_RESET_TOKEN_EXPIRY_MINUTES", self.password_reset_token_expiry_minutes),
        ];
        if let Some((name, _)) = expiries.iter().find(|(_, minutes)| !(minutes.is_finite() && *minutes > 0.0)) {
            return Some(format!("{name} must be a positive number of minutes"));
        }
        self.admins.as_deref().and_then(|admins| super::admins::parse(admins).err())
    }
}

/// Minutes as nanoseconds.
pub(crate) fn minutes_nanos(minutes: f64) -> i64 {
    (minutes * 60e9).min(i64::MAX as f64) as i64
}
