//! Mail over a real SMTP server (aiosmtpd, started by the test on loopback, requiring STARTTLS
//! and a sign-in): the welcome mail of a new user carries a one-time link to choose a password
//! (used in Chromium), the forgotten-password page mails a reset link to accounts only and says
//! the same for any address, a link works once, an earlier link dies when a new one is sent,
//! and an expired one is refused.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::browser::driver::{self, Browser};
use crate::process::Ember;

const SECRET: &str = "e2e-mail-secret-0123456789abcdefghijk";
const ADMIN_SECRET: &str = "e2e-mail-admin-0123456789abcdefghijk";
const ROOT_URL: &str = "http://ember.example";
const SMTP_USER: &str = "mailer";
const SMTP_PASSWORD: &str = "smtp-pass-42";

/// A Python with aiosmtpd: `EMBER_TEST_SMTP_PYTHON`, else the machine's `python3` if it has it.
fn smtp_python() -> Option<String> {
    if let Ok(python) = std::env::var("EMBER_TEST_SMTP_PYTHON") {
        return Some(python);
    }
    let has = std::process::Command::new("python3").args(["-c", "import aiosmtpd"]).output().is_ok_and(|out| out.status.success());
    has.then(|| "python3".to_string())
}

/// The SMTP server and the directory its mail lands in.
struct SmtpServer {
    child: Child,
    port: u16,
    mail_dir: PathBuf,
}

impl SmtpServer {
    async fn start(python: &str, dir: &Path) -> SmtpServer {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap().self_signed(&key).unwrap();
        let (cert_path, key_path, mail_dir) = (dir.join("smtp.pem"), dir.join("smtp.key"), dir.join("mail"));
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        std::fs::create_dir_all(&mail_dir).unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/smtp_server.py");
        let mut child = Command::new(python)
            .arg(script)
            .args([&mail_dir, &cert_path, &key_path])
            .args([SMTP_USER, SMTP_PASSWORD])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the SMTP server starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await.expect("the SMTP server is ready").unwrap();
        let port = ready.as_deref().and_then(|line| line.strip_prefix("ready ")).expect("ready <port>").parse().unwrap();
        SmtpServer { child, port, mail_dir }
    }

    /// Ember's settings for this server.
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("PHOENIX_SMTP_HOSTNAME", "127.0.0.1".into()),
            ("PHOENIX_SMTP_PORT", self.port.to_string()),
            ("PHOENIX_SMTP_USERNAME", SMTP_USER.into()),
            ("PHOENIX_SMTP_PASSWORD", SMTP_PASSWORD.into()),
            ("PHOENIX_SMTP_MAIL_FROM", "ember@example.com".into()),
            // The test's certificate is its own.
            ("PHOENIX_SMTP_VALIDATE_CERTS", "false".into()),
        ]
    }

    /// The mails received so far, oldest first, as text (quoted-printable soft breaks joined).
    fn mails(&self) -> Vec<String> {
        let mut numbered: Vec<(u32, PathBuf)> = std::fs::read_dir(&self.mail_dir)
            .unwrap()
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|extension| extension == "eml"))
            .filter_map(|path| Some((path.file_stem()?.to_str()?.parse().ok()?, path)))
            .collect();
        numbered.sort();
        numbered.into_iter().map(|(_, path)| std::fs::read_to_string(path).unwrap().replace("=\r\n", "").replace("=3D", "=")).collect()
    }

    /// Waits for the `count`th mail and returns it.
    async fn mail(&self, count: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let mails = self.mails();
            if mails.len() >= count {
                return mails[count - 1].clone();
            }
            assert!(Instant::now() < deadline, "mail {count} never came; {} came", mails.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn stop(mut self) {
        drop(self.child.stdin.take());
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}

/// The one-time link in a mail, which must start at the configured address.
fn link_in(mail: &str) -> String {
    let start = mail.find(&format!("{ROOT_URL}/reset-password-with-token?token=")).unwrap_or_else(|| panic!("no link in {mail}"));
    mail[start..].split(|c: char| c.is_whitespace() || c == '"' || c == '<').next().unwrap().to_string()
}

fn token_of(link: &str) -> String {
    let encoded = link.split("token=").nth(1).unwrap();
    percent_encoding::percent_decode_str(encoded).decode_utf8().unwrap().to_string()
}

async fn start_ember(dir: &Path, smtp: &SmtpServer, extra: &[(&str, &str)]) -> Ember {
    let mut env: Vec<(&str, String)> = vec![
        ("PHOENIX_ENABLE_AUTH", "true".into()),
        ("PHOENIX_SECRET", SECRET.into()),
        ("PHOENIX_ADMIN_SECRET", ADMIN_SECRET.into()),
        ("PHOENIX_DISABLE_RATE_LIMIT", "true".into()),
        ("PHOENIX_ROOT_URL", ROOT_URL.into()),
    ];
    env.extend(smtp.env());
    env.extend(extra.iter().map(|(key, value)| (*key, value.to_string())));
    let env: Vec<(&str, &str)> = env.iter().map(|(key, value)| (*key, value.as_str())).collect();
    Ember::start(dir, &env).await
}

async fn create_user(ember: &Ember, email: &str, username: &str) {
    let body = json!({"user": {"auth_method": "LOCAL", "email": email, "username": username, "role": "MEMBER"}});
    let response = ember.client.post(format!("{}/v1/users", ember.http)).bearer_auth(ADMIN_SECRET).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
}

async fn reset(ember: &Ember, token: &str, password: &str) -> u16 {
    let body = json!({"token": token, "password": password});
    ember.client.post(format!("{}/auth/password-reset", ember.http)).json(&body).send().await.unwrap().status().as_u16()
}

async fn sign_in_status(ember: &Ember, email: &str, password: &str) -> u16 {
    let body = json!({"email": email, "password": password});
    ember.client.post(format!("{}/auth/login", ember.http)).json(&body).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn welcome_and_reset_mails_carry_links_that_work_once() {
    let python = smtp_python();
    if !ember_store::testing::skip_unless(
        python.is_some(),
        "a Python with aiosmtpd (the SMTP server of the mail tests)",
        "install aiosmtpd in a virtualenv and set EMBER_TEST_SMTP_PYTHON to its python (./scripts/test does)",
    ) || !driver::available()
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(&python.unwrap(), dir.path()).await;
    let ember = start_ember(&dir.path().join("ember"), &smtp, &[]).await;

    // An invitation: the welcome mail's link sets the password, in the browser, once.
    create_user(&ember, "new@example.com", "newbie").await;
    let welcome = smtp.mail(1).await;
    assert!(welcome.contains("To: new@example.com") && welcome.contains("From: ember@example.com"), "{welcome}");
    assert!(welcome.contains("Subject: [ember] Welcome to ember") && welcome.contains(&format!("{ROOT_URL}/login")), "{welcome}");
    let link = link_in(&welcome);
    let browser = Browser::start(&ember.http).await;
    browser.goto(&link.replacen(ROOT_URL, "", 1)).await;
    browser.fill("#reset-password [name=password]", "Invited-Pass-123").await;
    browser.fill("#reset-password [name=confirm]", "Different-Pass-123").await;
    browser.click("#reset-password button[type=submit]").await;
    browser.wait_for("#reset-error").await;
    assert!(browser.text("#reset-error").await.contains("differ"));
    browser.fill("#reset-password [name=password]", "Invited-Pass-123").await;
    browser.fill("#reset-password [name=confirm]", "Invited-Pass-123").await;
    browser.click("#reset-password button[type=submit]").await;
    browser.wait_for_text(".notice", "Your password is set").await;
    assert_eq!(sign_in_status(&ember, "new@example.com", "Invited-Pass-123").await, 204);
    assert_eq!(reset(&ember, &token_of(&link), "Another-Pass-123").await, 401, "a link works once");

    // Forgotten: any address gets the same answer, only an account gets mail.
    browser.goto("/login").await;
    browser.click("#forgot-password-link").await;
    browser.wait_for("#forgot-password").await;
    browser.fill("#forgot-password [name=email]", "nobody@example.com").await;
    browser.click("#forgot-password button[type=submit]").await;
    browser.wait_for("#reset-notice").await;
    let unknown_answer = browser.text("#reset-notice").await;
    browser.fill("#forgot-password [name=email]", "New@Example.com").await;
    browser.click("#forgot-password button[type=submit]").await;
    browser.wait_for("#reset-notice").await;
    assert_eq!(browser.text("#reset-notice").await, unknown_answer);
    browser.screenshot("forgot-password").await;
    let reset_mail = smtp.mail(2).await;
    assert!(reset_mail.contains("To: new@example.com") && reset_mail.contains("Subject: [ember] Password reset"), "{reset_mail}");
    let first = token_of(&link_in(&reset_mail));

    // A newer link kills the older one; the newer works once; the old password is gone.
    let response =
        ember.client.post(format!("{}/auth/password-reset-email", ember.http)).json(&json!({"email": "new@example.com"})).send().await;
    assert_eq!(response.unwrap().status(), 204);
    let second = token_of(&link_in(&smtp.mail(3).await));
    assert_eq!(reset(&ember, &first, "Reset-Pass-456").await, 401, "the earlier link is revoked");
    assert_eq!(reset(&ember, &second, "Reset-Pass-456").await, 204);
    assert_eq!(reset(&ember, &second, "Reset-Pass-789").await, 401);
    assert_eq!(sign_in_status(&ember, "new@example.com", "Reset-Pass-456").await, 204);
    assert_eq!(sign_in_status(&ember, "new@example.com", "Invited-Pass-123").await, 401);
    assert!(smtp.mails().iter().all(|mail| !mail.contains("nobody@example.com")), "no mail to an address without an account");
    browser.close().await;
    ember.terminate().await;

    // An expired link is refused.
    let expiring = start_ember(&dir.path().join("expiring"), &smtp, &[("PHOENIX_PASSWORD_RESET_TOKEN_EXPIRY_MINUTES", "0.002")]).await;
    create_user(&expiring, "late@example.com", "late").await;
    let late = token_of(&link_in(&smtp.mail(4).await));
    // The link lives 120 ms; this waits for that time to pass, not for another task.
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(reset(&expiring, &late, "Too-Late-Pass-1").await, 401);
    expiring.terminate().await;
    smtp.stop().await;
}

/// Storage past its warning threshold is mailed to each admin (Phoenix's database usage
/// warning), naming the threshold and where to look.
#[tokio::test]
async fn admins_are_mailed_when_storage_runs_low() {
    let python = smtp_python();
    if !ember_store::testing::skip_unless(
        python.is_some(),
        "a Python with aiosmtpd (the SMTP server of the mail tests)",
        "install aiosmtpd in a virtualenv and set EMBER_TEST_SMTP_PYTHON to its python (./scripts/test does)",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(&python.unwrap(), dir.path()).await;
    // About 107 kB of capacity, warned at 1 %: a new database is past it at the first check.
    let limits = [
        ("PHOENIX_DATABASE_ALLOCATED_STORAGE_CAPACITY_GIBIBYTES", "0.0001"),
        ("PHOENIX_DATABASE_USAGE_EMAIL_WARNING_THRESHOLD_PERCENTAGE", "1"),
    ];
    let ember = start_ember(&dir.path().join("ember"), &smtp, &limits).await;
    let warning = smtp.mail(1).await;
    assert!(warning.contains("To: admin@localhost") && warning.contains("Subject: [ember] Storage is running low"), "{warning}");
    assert!(warning.contains("PHOENIX_DATABASE_USAGE_EMAIL_WARNING_THRESHOLD_PERCENTAGE"), "{warning}");
    assert!(warning.contains(&format!("{ROOT_URL}/settings")), "{warning}");
    ember.terminate().await;
    smtp.stop().await;
}
