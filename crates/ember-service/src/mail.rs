//! Mail over SMTP with Phoenix's settings (`PHOENIX_SMTP_*`): the welcome mail of a new user
//! (for a password user, with a one-time link to set their password) and the password-reset
//! mail. Mail is off without `PHOENIX_SMTP_HOSTNAME`. The connection is secured with STARTTLS
//! as Phoenix's is (or implicit TLS, or — for a relay on loopback — none), the server's
//! certificate checked unless `PHOENIX_SMTP_VALIDATE_CERTS` is false; credentials are sent
//! only over the secured connection.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Phoenix's default port (submission with STARTTLS).
const DEFAULT_SMTP_PORT: u16 = 587;

/// Phoenix's default sender.
const DEFAULT_MAIL_FROM: &str = "noreply@arize.com";

/// How long one SMTP command may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// How often one admin is told that storage is running low (Phoenix's: once a day).
pub const STORAGE_WARNING_EVERY: Duration = Duration::from_secs(24 * 60 * 60);

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SmtpSecurity {
    /// Upgrade a plain connection with STARTTLS, refusing to go on without it (Phoenix's way).
    Starttls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
    /// No encryption: only for a relay on the same machine or a trusted network.
    None,
}

/// The SMTP settings, under Phoenix's names.
#[derive(Debug, Clone, clap::Args)]
pub struct MailSettings {
    /// The SMTP server that sends welcome and password-reset mail; no mail is sent without it.
    #[arg(long, env = "PHOENIX_SMTP_HOSTNAME")]
    pub smtp_hostname: Option<String>,
    /// The SMTP server's port.
    #[arg(long, env = "PHOENIX_SMTP_PORT", default_value_t = DEFAULT_SMTP_PORT)]
    pub smtp_port: u16,
    /// The user name ember signs in to the SMTP server with (none: no sign-in).
    #[arg(long, env = "PHOENIX_SMTP_USERNAME")]
    pub smtp_username: Option<String>,
    /// The password ember signs in to the SMTP server with.
    #[arg(long, env = "PHOENIX_SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<String>,
    /// The sender of ember's mail.
    #[arg(long, env = "PHOENIX_SMTP_MAIL_FROM", default_value = DEFAULT_MAIL_FROM)]
    pub smtp_mail_from: String,
    /// Whether the SMTP server's certificate is checked.
    #[arg(long, env = "PHOENIX_SMTP_VALIDATE_CERTS", default_value_t = true, action = clap::ArgAction::Set)]
    pub smtp_validate_certs: bool,
    /// How the SMTP connection is secured.
    #[arg(long, env = "EMBER_SMTP_SECURITY", value_enum, default_value_t = SmtpSecurity::Starttls)]
    pub smtp_security: SmtpSecurity,
}

impl Default for MailSettings {
    /// Mail off.
    fn default() -> Self {
        MailSettings {
            smtp_hostname: None,
            smtp_port: DEFAULT_SMTP_PORT,
            smtp_username: None,
            smtp_password: None,
            smtp_mail_from: DEFAULT_MAIL_FROM.into(),
            smtp_validate_certs: true,
            smtp_security: SmtpSecurity::Starttls,
        }
    }
}

/// Why mail cannot be set up or was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("PHOENIX_SMTP_MAIL_FROM is not a mail address: {0}")]
    Sender(String),
    #[error("the SMTP connection cannot be set up: {0}")]
    Setup(String),
    #[error("{0:?} is not a mail address")]
    Recipient(String),
    #[error("the mail could not be written: {0}")]
    Message(String),
    #[error("the SMTP server did not take the mail: {0}")]
    Send(String),
}

/// A mail to send: both a plain-text and an HTML body.
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Sends mail through the configured SMTP server.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// When each admin was last told that storage is running low.
    storage_warned: Mutex<HashMap<String, Instant>>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl Mailer {
    /// The mailer of `settings`; `None` when no SMTP server is set.
    pub fn new(settings: &MailSettings) -> Result<Option<Mailer>, MailError> {
        let Some(hostname) = settings.smtp_hostname.as_deref().map(str::trim).filter(|host| !host.is_empty()) else {
            return Ok(None);
        };
        let from: Mailbox = settings.smtp_mail_from.parse().map_err(|_| MailError::Sender(settings.smtp_mail_from.clone()))?;
        let tls_parameters = || {
            TlsParameters::builder(hostname.to_string())
                .dangerous_accept_invalid_certs(!settings.smtp_validate_certs)
                .build()
                .map_err(|error| MailError::Setup(error.to_string()))
        };
        let tls = match settings.smtp_security {
            SmtpSecurity::Starttls => Tls::Required(tls_parameters()?),
            SmtpSecurity::Tls => Tls::Wrapper(tls_parameters()?),
            SmtpSecurity::None => Tls::None,
        };
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(hostname).port(settings.smtp_port).tls(tls).timeout(Some(SMTP_TIMEOUT));
        if let Some(username) = settings.smtp_username.as_deref().filter(|name| !name.is_empty()) {
            builder = builder.credentials(Credentials::new(username.to_string(), settings.smtp_password.clone().unwrap_or_default()));
        }
        Ok(Some(Mailer { transport: builder.build(), from, storage_warned: Mutex::default() }))
    }

    /// Of `admins`, those not told about storage within [`STORAGE_WARNING_EVERY`] before `now`;
    /// they count as told from `now` (a failed send is not retried before the next day, so a
    /// broken SMTP server is not asked every few seconds). Admins no longer listed are forgotten.
    pub fn due_storage_warnings(&self, admins: Vec<String>, now: Instant) -> Vec<String> {
        let mut warned = self.storage_warned.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        warned.retain(|admin, _| admins.contains(admin));
        admins
            .into_iter()
            .filter(|admin| {
                let due = warned.get(admin).is_none_or(|last| now.saturating_duration_since(*last) >= STORAGE_WARNING_EVERY);
                if due {
                    warned.insert(admin.clone(), now);
                }
                due
            })
            .collect()
    }

    /// Sends one mail.
    pub async fn send(&self, mail: Mail) -> Result<(), MailError> {
        let to: Mailbox = mail.to.parse().map_err(|_| MailError::Recipient(mail.to.clone()))?;
        let body = MultiPart::alternative()
            .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(mail.text))
            .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(mail.html));
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .multipart(body)
            .map_err(|error| MailError::Message(error.to_string()))?;
        self.transport.send(message).await.map_err(|error| MailError::Send(error.to_string()))?;
        Ok(())
    }
}

/// Escapes text for an HTML body.
fn html_text(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The welcome mail of a new user: where to sign in, and for a password user the one-time link
/// to set their password (valid for `valid_minutes`).
pub fn welcome_mail(to: &str, name: &str, sign_in_url: &str, set_password: Option<(&str, f64)>) -> Mail {
    let (text_link, html_link) = match set_password {
        Some((url, minutes)) => (
            format!("Choose your password here (the link works once, for {minutes:.0} minutes):\n{url}\n\n"),
            format!("<p><a href=\"{0}\">Choose your password</a> (the link works once, for {minutes:.0} minutes).</p>", html_text(url)),
        ),
        None => (String::new(), String::new()),
    };
    Mail {
        to: to.to_string(),
        subject: "[ember] Welcome to ember".into(),
        text: format!("Hello {name},\n\nan account on ember was made for you.\n\n{text_link}Sign in at {sign_in_url}\n"),
        html: format!(
            "<p>Hello {0},</p><p>an account on ember was made for you.</p>{html_link}<p>Sign in at <a href=\"{1}\">{1}</a>.</p>",
            html_text(name),
            html_text(sign_in_url)
        ),
    }
}

/// The storage warning an admin gets: what is near its limit, and where to see it.
pub fn storage_warning_mail(to: &str, message: &str, settings_url: &str) -> Mail {
    Mail {
        to: to.to_string(),
        subject: "[ember] Storage is running low".into(),
        text: format!("{message}\n\nSee the server's storage and retention settings at {settings_url}\n"),
        html: format!(
            "<p>{0}</p><p>See the server's storage and retention settings at <a href=\"{1}\">{1}</a>.</p>",
            html_text(message),
            html_text(settings_url)
        ),
    }
}

/// The password-reset mail: the one-time link, valid for `valid_minutes`.
pub fn password_reset_mail(to: &str, reset_url: &str, valid_minutes: f64) -> Mail {
    Mail {
        to: to.to_string(),
        subject: "[ember] Password reset".into(),
        text: format!(
            "Someone asked to reset the password of this account on ember. To choose a new one, open this link \
             (it works once, for {valid_minutes:.0} minutes):\n{reset_url}\n\nIf it was not you, ignore this mail.\n"
        ),
        html: format!(
            "<p>Someone asked to reset the password of this account on ember.</p><p><a href=\"{0}\">Choose a new password</a> \
             (the link works once, for {valid_minutes:.0} minutes).</p><p>If it was not you, ignore this mail.</p>",
            html_text(reset_url)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_admin_is_told_about_storage_once_a_day() {
        let settings = MailSettings { smtp_hostname: Some("127.0.0.1".into()), smtp_security: SmtpSecurity::None, ..Default::default() };
        let mailer = Mailer::new(&settings).unwrap().unwrap();
        let start = Instant::now();
        let admins = || vec!["a@x.com".to_string(), "b@x.com".to_string()];
        assert_eq!(mailer.due_storage_warnings(admins(), start), admins());
        assert!(mailer.due_storage_warnings(admins(), start + Duration::from_secs(3600)).is_empty());
        // A new admin is told at once; the others a day after they were.
        let with_c = vec!["a@x.com".to_string(), "c@x.com".to_string()];
        assert_eq!(mailer.due_storage_warnings(with_c.clone(), start + Duration::from_secs(7200)), ["c@x.com"]);
        assert_eq!(mailer.due_storage_warnings(with_c, start + STORAGE_WARNING_EVERY), ["a@x.com"]);
        assert!(Mailer::new(&MailSettings::default()).unwrap().is_none(), "no host, no mail");
        let bad_sender = MailSettings { smtp_mail_from: "not an address".into(), ..settings };
        assert!(matches!(Mailer::new(&bad_sender), Err(MailError::Sender(_))));
    }
}
