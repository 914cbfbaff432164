//! LDAP sign-in against a real directory: Debian's OpenLDAP `slapd`, started by the test on
//! loopback with its own certificate (StartTLS and LDAPS) and the memberOf overlay, seeded over
//! LDAP. Sign-in by REST and in Chromium; group → role mapping from `memberOf` and from a POSIX
//! group search; a role that follows the directory; wrong passwords, users outside the search
//! base or in no mapped group, filter injection and empty passwords refused alike; no account
//! taken over; sign-up off; identification by `entryUUID` surviving an email change; a directory
//! certificate from another CA refused.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use ldap3::{LdapConnAsync, LdapConnSettings, Mod};
use serde_json::{json, Value};
use tokio::process::{Child, Command};

use crate::browser::driver::{self, Browser};
use crate::process::Ember;

const SECRET: &str = "e2e-ldap-secret-0123456789abcdefghijk";
const ADMIN_SECRET: &str = "e2e-ldap-admin-0123456789abcdefghijk";
const SUFFIX: &str = "dc=example,dc=com";
const ROOT_DN: &str = "cn=root,dc=example,dc=com";
const ROOT_PASSWORD: &str = "root-pass-1";
const SERVICE_DN: &str = "cn=ember,ou=services,dc=example,dc=com";
const SERVICE_PASSWORD: &str = "service-pass-1";
const FAILED: &str = "Invalid username and/or password";

fn slapd_binary() -> Option<PathBuf> {
    let installed = Path::new("/usr/sbin/slapd");
    let complete = Path::new("/etc/ldap/schema/inetorgperson.schema").exists() && Path::new("/usr/lib/ldap/memberof.so").exists();
    (installed.exists() && complete).then(|| installed.to_path_buf())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running `slapd` with `dc=example,dc=com`, its CA certificate in `ca_file`.
struct Slapd {
    _child: Child,
    ldap_port: u16,
    ldaps_port: u16,
    ca_file: PathBuf,
}

impl Slapd {
    async fn start(binary: &Path, dir: &Path) -> Slapd {
        std::fs::create_dir_all(dir.join("db")).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap().self_signed(&key).unwrap();
        let (ca_file, key_file) = (dir.join("ldap.pem"), dir.join("ldap.key"));
        std::fs::write(&ca_file, cert.pem()).unwrap();
        std::fs::write(&key_file, key.serialize_pem()).unwrap();
        let config = format!(
            "include /etc/ldap/schema/core.schema\n\
             include /etc/ldap/schema/cosine.schema\n\
             include /etc/ldap/schema/inetorgperson.schema\n\
             include /etc/ldap/schema/nis.schema\n\
             modulepath /usr/lib/ldap\n\
             moduleload back_mdb\n\
             moduleload memberof\n\
             pidfile {dir}/slapd.pid\n\
             TLSCertificateFile {cert}\n\
             TLSCertificateKeyFile {key}\n\
             database mdb\n\
             maxsize 10485760\n\
             suffix \"{SUFFIX}\"\n\
             rootdn \"{ROOT_DN}\"\n\
             rootpw {ROOT_PASSWORD}\n\
             directory {dir}/db\n\
             overlay memberof\n",
            dir = dir.display(),
            cert = ca_file.display(),
            key = key_file.display(),
        );
        std::fs::write(dir.join("slapd.conf"), config).unwrap();
        let (ldap_port, ldaps_port) = (free_port(), free_port());
        let child = Command::new(binary)
            .arg("-f")
            .arg(dir.join("slapd.conf"))
            .arg("-h")
            .arg(format!("ldap://127.0.0.1:{ldap_port}/ ldaps://127.0.0.1:{ldaps_port}/"))
            // Debug level 0: in the foreground (killed with the test), logging nothing.
            .args(["-d", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("slapd starts");
        let slapd = Slapd { _child: child, ldap_port, ldaps_port, ca_file };
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", ldap_port)).await.is_err() {
            assert!(Instant::now() < deadline, "slapd never listened");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        slapd
    }

    /// A connection bound as the directory's root (for seeding and changing the directory).
    async fn root(&self) -> ldap3::Ldap {
        let url = format!("ldap://127.0.0.1:{}", self.ldap_port);
        let (connection, mut ldap) = LdapConnAsync::with_settings(LdapConnSettings::new(), &url).await.unwrap();
        ldap3::drive!(connection);
        ldap.simple_bind(ROOT_DN, ROOT_PASSWORD).await.unwrap().success().unwrap();
        ldap
    }

    async fn add(&self, dn: &str, attributes: &[(&str, &[&str])]) {
        let attributes: Vec<(&str, std::collections::HashSet<&str>)> =
            attributes.iter().map(|(name, values)| (*name, values.iter().copied().collect())).collect();
        self.root().await.add(dn, attributes).await.unwrap().success().unwrap_or_else(|error| panic!("adding {dn}: {error}"));
    }

    async fn modify(&self, dn: &str, change: Mod<&str>) {
        self.root().await.modify(dn, vec![change]).await.unwrap().success().unwrap();
    }

    async fn seed(&self) {
        self.add(SUFFIX, &[("objectClass", &["dcObject", "organization"]), ("o", &["Example"]), ("dc", &["example"])]).await;
        for unit in ["people", "contractors", "groups", "services"] {
            self.add(&format!("ou={unit},{SUFFIX}"), &[("objectClass", &["organizationalUnit"]), ("ou", &[unit])]).await;
        }
        self.add(
            SERVICE_DN,
            &[("objectClass", &["organizationalRole", "simpleSecurityObject"]), ("cn", &["ember"]), ("userPassword", &[SERVICE_PASSWORD])],
        )
        .await;
        let people = [
            ("people", "alice", "Alice Admin", "alice@example.com"),
            ("people", "bob", "Bob Builder", "bob@example.com"),
            ("people", "carol", "Carol NoGroup", "carol@example.com"),
            ("people", "erin", "Erin Local", "erin@example.com"),
            ("contractors", "dave", "Dave Contractor", "dave@example.com"),
        ];
        for (unit, uid, name, mail) in people {
            let password = format!("{uid}-pass-1");
            let attributes: [(&str, &[&str]); 7] = [
                ("objectClass", &["inetOrgPerson"]),
                ("uid", &[uid]),
                ("cn", &[name]),
                ("sn", &[uid]),
                ("displayName", &[name]),
                ("mail", &[mail]),
                ("userPassword", &[password.as_str()]),
            ];
            self.add(&format!("uid={uid},ou={unit},{SUFFIX}"), &attributes).await;
        }
        let member = |uid: &str| format!("uid={uid},ou=people,{SUFFIX}");
        let (alice, bob, erin) = (member("alice"), member("bob"), member("erin"));
        self.add(
            &format!("cn=admins,ou=groups,{SUFFIX}"),
            &[("objectClass", &["groupOfNames"]), ("cn", &["admins"]), ("member", &[&alice, &erin])],
        )
        .await;
        self.add(&format!("cn=devs,ou=groups,{SUFFIX}"), &[("objectClass", &["groupOfNames"]), ("cn", &["devs"]), ("member", &[&bob])])
            .await;
        // A contractor in a mapped group: only the search base keeps them out.
        let dave = format!("uid=dave,ou=contractors,{SUFFIX}");
        self.add(
            &format!("cn=outside,ou=groups,{SUFFIX}"),
            &[("objectClass", &["groupOfNames"]), ("cn", &["outside"]), ("member", &[&dave])],
        )
        .await;
        self.add(
            &format!("cn=ops,ou=groups,{SUFFIX}"),
            &[("objectClass", &["posixGroup"]), ("cn", &["ops"]), ("gidNumber", &["5000"]), ("memberUid", &["alice"])],
        )
        .await;
    }

    /// ember's settings for this directory over StartTLS, checked against its certificate.
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("PHOENIX_LDAP_HOST", "127.0.0.1".into()),
            ("PHOENIX_LDAP_PORT", self.ldap_port.to_string()),
            ("PHOENIX_LDAP_TLS_CA_CERT_FILE", self.ca_file.display().to_string()),
            ("PHOENIX_LDAP_BIND_DN", SERVICE_DN.into()),
            ("PHOENIX_LDAP_BIND_PASSWORD", SERVICE_PASSWORD.into()),
            ("PHOENIX_LDAP_USER_SEARCH_BASE_DNS", format!(r#"["ou=people,{SUFFIX}"]"#)),
            ("PHOENIX_LDAP_USER_SEARCH_FILTER", "(&(objectClass=inetOrgPerson)(uid=%s))".into()),
        ]
    }
}

async fn start_ember(dir: &Path, settings: Vec<(&'static str, String)>) -> Ember {
    let mut env: Vec<(&str, String)> = vec![
        ("PHOENIX_ENABLE_AUTH", "true".into()),
        ("PHOENIX_SECRET", SECRET.into()),
        ("PHOENIX_ADMIN_SECRET", ADMIN_SECRET.into()),
        ("PHOENIX_DISABLE_RATE_LIMIT", "true".into()),
    ];
    env.extend(settings);
    let env: Vec<(&str, &str)> = env.iter().map(|(key, value)| (*key, value.as_str())).collect();
    Ember::start(dir, &env).await
}

/// `POST /auth/ldap/login`: the status, and the signed-in user (`GET /v1/user` with the access
/// cookie) or the refusal's message.
async fn ldap_login(ember: &Ember, username: &str, password: &str) -> (u16, Value) {
    let response = ember
        .client
        .post(format!("{}/auth/ldap/login", ember.http))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    if status != 204 {
        return (status, Value::String(response.text().await.unwrap()));
    }
    let access = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|cookie| cookie.strip_prefix("phoenix-access-token="))
        .map(|cookie| cookie.split(';').next().unwrap().to_string())
        .expect("the access-token cookie");
    let viewer = ember.client.get(format!("{}/v1/user", ember.http)).bearer_auth(access).send().await.unwrap();
    (status, viewer.json::<Value>().await.unwrap()["data"].clone())
}

fn who(user: &Value) -> (String, String, String, String) {
    let field = |name: &str| user[name].as_str().unwrap_or_default().to_string();
    (field("email"), field("username"), field("role"), field("auth_method"))
}

async fn create_user(ember: &Ember, user: Value) -> Value {
    let response = ember
        .client
        .post(format!("{}/v1/users", ember.http))
        .bearer_auth(ADMIN_SECRET)
        .json(&json!({"user": user, "send_welcome_email": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["data"].clone()
}

fn ldap_available() -> Option<PathBuf> {
    let binary = slapd_binary();
    ember_store::testing::skip_unless(
        binary.is_some(),
        "OpenLDAP's slapd (the directory of the LDAP tests)",
        "apt-get install slapd ldap-utils (.ci/run does)",
    )
    .then_some(())?;
    binary
}

#[tokio::test]
async fn directory_users_sign_in_with_the_role_of_their_groups() {
    let Some(binary) = ldap_available() else { return };
    let dir = tempfile::tempdir().unwrap();
    let slapd = Slapd::start(&binary, &dir.path().join("slapd")).await;
    slapd.seed().await;
    let mut settings = slapd.env();
    let mappings = format!(
        r#"[{{"group_dn": "CN=Admins, OU=Groups, {SUFFIX}", "role": "ADMIN"}}, {{"group_dn": "cn=devs,ou=groups,{SUFFIX}", "role": "member"}}, {{"group_dn": "cn=outside,ou=groups,{SUFFIX}", "role": "ADMIN"}}]"#
    );
    settings.push(("PHOENIX_LDAP_GROUP_ROLE_MAPPINGS", mappings));
    let ember = start_ember(&dir.path().join("ember"), settings).await;

    // First sign-in makes the account, with the directory's email, name and the mapped role.
    let (status, alice) = ldap_login(&ember, "alice", "alice-pass-1").await;
    assert_eq!(status, 204, "{alice}");
    assert_eq!(who(&alice), ("alice@example.com".into(), "Alice Admin".into(), "ADMIN".into(), "LDAP".into()));
    let (_, again) = ldap_login(&ember, "alice", "alice-pass-1").await;
    assert_eq!(again["id"], alice["id"], "the second sign-in finds the same account");
    // Bob's display name is taken by another account: his gets it with a short suffix.
    create_user(&ember, json!({"auth_method": "LOCAL", "email": "builder@other.example", "username": "Bob Builder", "role": "VIEWER", "password": "builder-1"})).await;
    let (status, bob) = ldap_login(&ember, "bob", "bob-pass-1").await;
    assert_eq!((status, who(&bob).2), (204, "MEMBER".to_string()));
    let username = who(&bob).1;
    assert!(username.starts_with("Bob Builder (") && username.len() == "Bob Builder (123456)".len(), "{username}");

    // Every refusal reads the same.
    let refused = [
        ("alice", "wrong-pass"),
        ("carol", "carol-pass-1"), // in no mapped group
        ("dave", "dave-pass-1"),   // in a mapped group, outside the search base
        ("nobody", "nobody-pass"), // no such user
        ("*", "alice-pass-1"),     // a filter wildcard matches nobody
        ("alice)(uid=*", "x"),     // nor does an injected filter
        ("alice", ""),             // an anonymous bind is not a sign-in
    ];
    for (username, password) in refused {
        let (status, message) = ldap_login(&ember, username, password).await;
        let expected = if password.is_empty() { "Username and password required" } else { FAILED };
        assert_eq!((status, message.as_str().unwrap_or_default()), (401, expected), "{username}");
    }

    // The role follows the directory at each sign-in.
    slapd
        .modify(&format!("cn=admins,ou=groups,{SUFFIX}"), Mod::Add("member", [format!("uid=bob,ou=people,{SUFFIX}").as_str()].into()))
        .await;
    let (_, promoted) = ldap_login(&ember, "bob", "bob-pass-1").await;
    assert_eq!((promoted["id"].clone(), who(&promoted).2), (bob["id"].clone(), "ADMIN".to_string()));

    // An account that signs in with a password is not taken over by the directory's namesake.
    create_user(
        &ember,
        json!({"auth_method": "LOCAL", "email": "erin@example.com", "username": "erin", "role": "VIEWER", "password": "erin-local-1"}),
    )
    .await;
    assert_eq!(ldap_login(&ember, "erin", "erin-pass-1").await, (401, Value::String(FAILED.into())));

    // In the browser: the login page's LDAP form signs in and goes to the page asked for.
    if driver::available() {
        let browser = Browser::start(&ember.http).await;
        browser.goto("/login?next=/datasets").await;
        browser.wait_for("#ldap-login").await;
        browser.fill("#ldap-login [name=username]", "bob").await;
        browser.fill("#ldap-login [name=password]", "wrong").await;
        browser.click("#ldap-login button[type=submit]").await;
        browser.wait_for_text(".notice.error", FAILED).await;
        browser.fill("#ldap-login [name=username]", "bob").await;
        browser.fill("#ldap-login [name=password]", "bob-pass-1").await;
        browser.click("#ldap-login button[type=submit]").await;
        browser.wait_for("#datasets").await;
        assert_eq!(browser.current_path().await, "/datasets");
        browser.screenshot("ldap-signed-in").await;
        browser.close().await;
    }
    ember.terminate().await;
}

#[tokio::test]
async fn posix_groups_ldaps_unique_ids_and_closed_sign_up() {
    let Some(binary) = ldap_available() else { return };
    let dir = tempfile::tempdir().unwrap();
    let slapd = Slapd::start(&binary, &dir.path().join("slapd")).await;
    slapd.seed().await;
    let mut settings = slapd.env();
    settings.retain(|(name, _)| *name != "PHOENIX_LDAP_PORT");
    settings.extend([
        ("PHOENIX_LDAP_TLS_MODE", "ldaps".to_string()),
        ("PHOENIX_LDAP_PORT", slapd.ldaps_port.to_string()),
        ("PHOENIX_LDAP_GROUP_SEARCH_BASE_DNS", format!(r#"["ou=groups,{SUFFIX}"]"#)),
        ("PHOENIX_LDAP_GROUP_SEARCH_FILTER", "(&(objectClass=posixGroup)(memberUid=%s))".into()),
        (
            "PHOENIX_LDAP_GROUP_ROLE_MAPPINGS",
            format!(r#"[{{"group_dn": "cn=ops,ou=groups,{SUFFIX}", "role": "ADMIN"}}, {{"group_dn": "*", "role": "VIEWER"}}]"#),
        ),
        ("PHOENIX_LDAP_ATTR_UNIQUE_ID", "entryUUID".into()),
        ("PHOENIX_LDAP_ALLOW_SIGN_UP", "false".into()),
    ]);
    let ember = start_ember(&dir.path().join("ember"), settings).await;

    // Sign-up is closed: only accounts an admin made sign in.
    assert_eq!(ldap_login(&ember, "alice", "alice-pass-1").await.0, 401);
    let made =
        create_user(&ember, json!({"auth_method": "LDAP", "email": "alice@example.com", "username": "alice", "role": "VIEWER"})).await;
    let (status, alice) = ldap_login(&ember, "alice", "alice-pass-1").await;
    assert_eq!(status, 204, "{alice}");
    assert_eq!((alice["id"].clone(), who(&alice).2), (made["id"].clone(), "ADMIN".to_string()), "the POSIX group's role");

    // Identified by entryUUID, the account follows a change of email in the directory.
    slapd.modify(&format!("uid=alice,ou=people,{SUFFIX}"), Mod::Replace("mail", ["alice.new@example.com"].into())).await;
    let (status, renamed) = ldap_login(&ember, "alice", "alice-pass-1").await;
    assert_eq!(status, 204, "{renamed}");
    assert_eq!((renamed["id"].clone(), who(&renamed).0), (made["id"].clone(), "alice.new@example.com".to_string()));
    // Carol, in no POSIX group, gets the catch-all role once an account exists for her.
    create_user(&ember, json!({"auth_method": "LDAP", "email": "carol@example.com", "username": "carol", "role": "ADMIN"})).await;
    let (status, carol) = ldap_login(&ember, "carol", "carol-pass-1").await;
    assert_eq!((status, who(&carol).2), (204, "VIEWER".to_string()));
    assert_eq!(ldap_login(&ember, "bob", "bob-pass-1").await.0, 401, "bob has no account and sign-up is closed");
    ember.terminate().await;

    // A directory whose certificate is not from the configured CA is not trusted.
    let other_key = rcgen::KeyPair::generate().unwrap();
    let other_ca = rcgen::CertificateParams::new(vec!["127.0.0.1".into()]).unwrap().self_signed(&other_key).unwrap();
    let other_ca_file = dir.path().join("other-ca.pem");
    std::fs::write(&other_ca_file, other_ca.pem()).unwrap();
    let mut untrusted = slapd.env();
    untrusted.retain(|(name, _)| *name != "PHOENIX_LDAP_TLS_CA_CERT_FILE");
    untrusted.push(("PHOENIX_LDAP_TLS_CA_CERT_FILE", other_ca_file.display().to_string()));
    untrusted.push(("PHOENIX_LDAP_GROUP_ROLE_MAPPINGS", r#"[{"group_dn": "*", "role": "VIEWER"}]"#.into()));
    let ember = start_ember(&dir.path().join("untrusted"), untrusted).await;
    assert_eq!(ldap_login(&ember, "alice", "alice-pass-1").await, (401, Value::String(FAILED.into())));
    ember.terminate().await;
}
