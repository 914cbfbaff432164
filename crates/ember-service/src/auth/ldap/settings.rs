//! The LDAP settings under Phoenix's names (`PHOENIX_LDAP_*`) and their meaning once checked:
//! [`LdapSettings::directory_config`] turns the raw values into a [`DirectoryConfig`] or names
//! the setting that is wrong, so that a bad setting stops the server at startup rather than
//! failing every sign-in.

use std::path::PathBuf;

use serde::Deserialize;

use crate::caller::Role;

/// Phoenix's defaults.
const DEFAULT_USER_SEARCH_FILTER: &str = "(&(objectClass=user)(sAMAccountName=%s))";
const DEFAULT_ATTR_EMAIL: &str = "mail";
const DEFAULT_ATTR_DISPLAY_NAME: &str = "displayName";
const DEFAULT_ATTR_MEMBER_OF: &str = "memberOf";
const STARTTLS_PORT: u16 = 389;
const LDAPS_PORT: u16 = 636;

/// How the connection to the directory is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LdapTlsMode {
    /// Upgrade a plain connection with StartTLS before anything is sent (Phoenix's default).
    Starttls,
    /// TLS from the first byte (`ldaps://`, usually port 636).
    Ldaps,
    /// No encryption: passwords cross the network in the clear (testing only).
    None,
}

/// Signing in against an LDAP directory (Active Directory, OpenLDAP, 389 DS); off without a host.
#[derive(Debug, Clone, clap::Args)]
pub struct LdapSettings {
    /// The directory's servers, comma-separated replicas tried in turn when one cannot be
    /// reached; LDAP sign-in is off without one.
    #[arg(long, env = "PHOENIX_LDAP_HOST")]
    pub ldap_host: Option<String>,
    /// The directory's port (by default 389 with StartTLS or none, 636 with LDAPS).
    #[arg(long, env = "PHOENIX_LDAP_PORT")]
    pub ldap_port: Option<u16>,
    /// How the connection is secured.
    #[arg(long, env = "PHOENIX_LDAP_TLS_MODE", value_enum, default_value_t = LdapTlsMode::Starttls)]
    pub ldap_tls_mode: LdapTlsMode,
    /// Whether the directory's certificate is checked.
    #[arg(long, env = "PHOENIX_LDAP_TLS_VERIFY", default_value_t = true, action = clap::ArgAction::Set)]
    pub ldap_tls_verify: bool,
    /// The CA certificates (PEM) the directory's certificate is checked against, instead of the
    /// system's.
    #[arg(long, env = "PHOENIX_LDAP_TLS_CA_CERT_FILE")]
    pub ldap_tls_ca_cert_file: Option<PathBuf>,
    /// A client certificate (PEM) ember presents to the directory (with its key).
    #[arg(long, env = "PHOENIX_LDAP_TLS_CLIENT_CERT_FILE")]
    pub ldap_tls_client_cert_file: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, env = "PHOENIX_LDAP_TLS_CLIENT_KEY_FILE")]
    pub ldap_tls_client_key_file: Option<PathBuf>,
    /// The service account ember searches the directory as (none: anonymous searches).
    #[arg(long, env = "PHOENIX_LDAP_BIND_DN")]
    pub ldap_bind_dn: Option<String>,
    /// The service account's password.
    #[arg(long, env = "PHOENIX_LDAP_BIND_PASSWORD", hide_env_values = true)]
    pub ldap_bind_password: Option<String>,
    /// Where users are searched: a JSON array of base DNs, tried in order.
    #[arg(long, env = "PHOENIX_LDAP_USER_SEARCH_BASE_DNS")]
    pub ldap_user_search_base_dns: Option<String>,
    /// The filter that finds a user, `%s` standing for the name they sign in with (escaped).
    #[arg(long, env = "PHOENIX_LDAP_USER_SEARCH_FILTER", default_value = DEFAULT_USER_SEARCH_FILTER)]
    pub ldap_user_search_filter: String,
    /// The attribute holding a user's email (required on every user).
    #[arg(long, env = "PHOENIX_LDAP_ATTR_EMAIL", default_value = DEFAULT_ATTR_EMAIL)]
    pub ldap_attr_email: String,
    /// An immutable id attribute (`entryUUID`, `objectGUID`, `nsUniqueId`) that identifies users
    /// instead of their email, so an account survives an email change.
    #[arg(long, env = "PHOENIX_LDAP_ATTR_UNIQUE_ID")]
    pub ldap_attr_unique_id: Option<String>,
    /// The attribute holding a user's display name (their username in ember).
    #[arg(long, env = "PHOENIX_LDAP_ATTR_DISPLAY_NAME", default_value = DEFAULT_ATTR_DISPLAY_NAME)]
    pub ldap_attr_display_name: String,
    /// The attribute listing a user's groups, read when no group search filter is set.
    #[arg(long, env = "PHOENIX_LDAP_ATTR_MEMBER_OF", default_value = DEFAULT_ATTR_MEMBER_OF)]
    pub ldap_attr_member_of: String,
    /// Where groups are searched: a JSON array of base DNs (with a group search filter).
    #[arg(long, env = "PHOENIX_LDAP_GROUP_SEARCH_BASE_DNS")]
    pub ldap_group_search_base_dns: Option<String>,
    /// The filter that finds a user's groups (e.g. `(&(objectClass=posixGroup)(memberUid=%s))`);
    /// without it a user's groups are their member-of attribute.
    #[arg(long, env = "PHOENIX_LDAP_GROUP_SEARCH_FILTER")]
    pub ldap_group_search_filter: Option<String>,
    /// The user attribute whose value stands for `%s` in the group filter (by default the name
    /// the user signed in with).
    #[arg(long, env = "PHOENIX_LDAP_GROUP_SEARCH_FILTER_USER_ATTR")]
    pub ldap_group_search_filter_user_attr: Option<String>,
    /// Groups to roles: a JSON array of `{"group_dn": …, "role": "ADMIN|MEMBER|VIEWER"}`, the first
    /// match wins, `"*"` matches everyone; a user matching none may not sign in.
    #[arg(long, env = "PHOENIX_LDAP_GROUP_ROLE_MAPPINGS")]
    pub ldap_group_role_mappings: Option<String>,
    /// Whether a directory user without an account gets one at first sign-in.
    #[arg(long, env = "PHOENIX_LDAP_ALLOW_SIGN_UP", default_value_t = true, action = clap::ArgAction::Set)]
    pub ldap_allow_sign_up: bool,
}

impl Default for LdapSettings {
    /// LDAP off.
    fn default() -> Self {
        LdapSettings {
            ldap_host: None,
            ldap_port: None,
            ldap_tls_mode: LdapTlsMode::Starttls,
            ldap_tls_verify: true,
            ldap_tls_ca_cert_file: None,
            ldap_tls_client_cert_file: None,
            ldap_tls_client_key_file: None,
            ldap_bind_dn: None,
            ldap_bind_password: None,
            ldap_user_search_base_dns: None,
            ldap_user_search_filter: DEFAULT_USER_SEARCH_FILTER.into(),
            ldap_attr_email: DEFAULT_ATTR_EMAIL.into(),
            ldap_attr_unique_id: None,
            ldap_attr_display_name: DEFAULT_ATTR_DISPLAY_NAME.into(),
            ldap_attr_member_of: DEFAULT_ATTR_MEMBER_OF.into(),
            ldap_group_search_base_dns: None,
            ldap_group_search_filter: None,
            ldap_group_search_filter_user_attr: None,
            ldap_group_role_mappings: None,
            ldap_allow_sign_up: true,
        }
    }
}

/// One group → role rule.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRole {
    /// A group's DN, canonical (see [`canonical_dn`]), or `*` for everyone.
    pub group_dn: String,
    pub role: Role,
}

/// How a user's groups are found.
#[derive(Debug, Clone, PartialEq)]
pub enum GroupLookup {
    /// The values of this attribute of the user's entry (Active Directory, OpenLDAP's memberOf).
    MemberOf(String),
    /// A search under these bases with this filter; `%s` is the value of `user_attr` of the
    /// user's entry, or the name they signed in with.
    Search { base_dns: Vec<String>, filter: String, user_attr: Option<String> },
}

/// Checked LDAP settings.
#[derive(Debug, Clone)]
pub struct DirectoryConfig {
    pub hosts: Vec<String>,
    pub port: u16,
    pub tls_mode: LdapTlsMode,
    pub tls_verify: bool,
    pub ca_cert_file: Option<PathBuf>,
    pub client_cert: Option<(PathBuf, PathBuf)>,
    pub bind: Option<(String, String)>,
    pub user_search_base_dns: Vec<String>,
    pub user_search_filter: String,
    pub attr_email: String,
    pub attr_unique_id: Option<String>,
    pub attr_display_name: String,
    pub groups: GroupLookup,
    pub group_roles: Vec<GroupRole>,
    pub allow_sign_up: bool,
}

#[derive(Deserialize)]
struct GroupRoleSetting {
    group_dn: String,
    role: String,
}

fn base_dns(name: &str, value: Option<&str>) -> Result<Vec<String>, String> {
    let Some(value) = value.map(str::trim).filter(|value| !value.is_empty()) else {
        return Ok(Vec::new());
    };
    let dns: Vec<String> =
        serde_json::from_str(value).map_err(|_| format!("{name} must be a JSON array of DNs, e.g. [\"ou=users,dc=example,dc=com\"]"))?;
    match dns.iter().find(|dn| canonical_dn(dn).is_none()) {
        Some(bad) => Err(format!("{name} holds {bad:?}, which is not a DN")),
        None => Ok(dns),
    }
}

fn non_empty(value: &str) -> Option<String> {
    Some(value.trim().to_string()).filter(|value| !value.is_empty())
}

impl LdapSettings {
    /// The checked settings; `Ok(None)` when LDAP is off, `Err` naming the setting that is wrong.
    pub fn directory_config(&self) -> Result<Option<DirectoryConfig>, String> {
        let hosts: Vec<String> =
            self.ldap_host.as_deref().unwrap_or_default().split(',').map(str::trim).filter(|h| !h.is_empty()).map(String::from).collect();
        if hosts.is_empty() {
            return Ok(None);
        }
        let user_search_base_dns = base_dns("PHOENIX_LDAP_USER_SEARCH_BASE_DNS", self.ldap_user_search_base_dns.as_deref())?;
        if user_search_base_dns.is_empty() {
            return Err("PHOENIX_LDAP_USER_SEARCH_BASE_DNS is required with PHOENIX_LDAP_HOST".into());
        }
        if !self.ldap_user_search_filter.contains("%s") {
            return Err("PHOENIX_LDAP_USER_SEARCH_FILTER must contain %s where the user's name goes".into());
        }
        let attr_email = non_empty(&self.ldap_attr_email).ok_or("PHOENIX_LDAP_ATTR_EMAIL must name an attribute")?;
        if attr_email.eq_ignore_ascii_case("null") {
            // Phoenix then keeps users without an email; every ember user has one.
            return Err("PHOENIX_LDAP_ATTR_EMAIL=null (users without an email) is not supported by ember: name the mail attribute".into());
        }
        let bind = match (self.ldap_bind_dn.as_deref().and_then(non_empty), self.ldap_bind_password.clone()) {
            (Some(dn), Some(password)) if !password.is_empty() => Some((dn, password)),
            (Some(_), _) => return Err("PHOENIX_LDAP_BIND_PASSWORD is required with PHOENIX_LDAP_BIND_DN".into()),
            (None, _) => None,
        };
        let client_cert = match (&self.ldap_tls_client_cert_file, &self.ldap_tls_client_key_file) {
            (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
            (None, None) => None,
            _ => return Err("PHOENIX_LDAP_TLS_CLIENT_CERT_FILE and PHOENIX_LDAP_TLS_CLIENT_KEY_FILE go together".into()),
        };
        let groups = match self.ldap_group_search_filter.as_deref().and_then(non_empty) {
            Some(filter) => {
                let base_dns = base_dns("PHOENIX_LDAP_GROUP_SEARCH_BASE_DNS", self.ldap_group_search_base_dns.as_deref())?;
                if base_dns.is_empty() {
                    return Err("PHOENIX_LDAP_GROUP_SEARCH_BASE_DNS is required with PHOENIX_LDAP_GROUP_SEARCH_FILTER".into());
                }
                if !filter.contains("%s") {
                    return Err("PHOENIX_LDAP_GROUP_SEARCH_FILTER must contain %s where the user goes".into());
                }
                let user_attr = self.ldap_group_search_filter_user_attr.as_deref().and_then(non_empty);
                GroupLookup::Search { base_dns, filter, user_attr }
            }
            None => GroupLookup::MemberOf(non_empty(&self.ldap_attr_member_of).unwrap_or_else(|| DEFAULT_ATTR_MEMBER_OF.into())),
        };
        Ok(Some(DirectoryConfig {
            hosts,
            port: self.ldap_port.unwrap_or(match self.ldap_tls_mode {
                LdapTlsMode::Ldaps => LDAPS_PORT,
                _ => STARTTLS_PORT,
            }),
            tls_mode: self.ldap_tls_mode,
            tls_verify: self.ldap_tls_verify,
            ca_cert_file: self.ldap_tls_ca_cert_file.clone(),
            client_cert,
            bind,
            user_search_base_dns,
            user_search_filter: self.ldap_user_search_filter.clone(),
            attr_email,
            attr_unique_id: self.ldap_attr_unique_id.as_deref().and_then(non_empty),
            attr_display_name: non_empty(&self.ldap_attr_display_name).unwrap_or_else(|| DEFAULT_ATTR_DISPLAY_NAME.into()),
            groups,
            group_roles: group_roles(self.ldap_group_role_mappings.as_deref())?,
            allow_sign_up: self.ldap_allow_sign_up,
        }))
    }
}

fn group_roles(value: Option<&str>) -> Result<Vec<GroupRole>, String> {
    const NAME: &str = "PHOENIX_LDAP_GROUP_ROLE_MAPPINGS";
    let Some(value) = value.map(str::trim).filter(|value| !value.is_empty()) else {
        return Ok(Vec::new());
    };
    let settings: Vec<GroupRoleSetting> =
        serde_json::from_str(value).map_err(|_| format!("{NAME} must be a JSON array of {{\"group_dn\": …, \"role\": …}}"))?;
    settings
        .into_iter()
        .map(|setting| {
            let role = match setting.role.to_uppercase().as_str() {
                "ADMIN" => Role::Admin,
                "MEMBER" => Role::Member,
                "VIEWER" => Role::Viewer,
                _ => return Err(format!("{NAME}: role {:?} is not ADMIN, MEMBER or VIEWER", setting.role)),
            };
            let group_dn = if setting.group_dn.trim() == "*" {
                "*".to_string()
            } else {
                canonical_dn(&setting.group_dn).ok_or_else(|| format!("{NAME}: {:?} is not a DN", setting.group_dn))?
            };
            Ok(GroupRole { group_dn, role })
        })
        .collect()
}

/// A DN in a form two spellings of one DN share: attribute names lowercased, spaces around `,`,
/// `=` and `+` dropped, values lowercased (directories compare DNs without regard to case).
/// `None` when `dn` is not a DN.
pub fn canonical_dn(dn: &str) -> Option<String> {
    let mut rdns = Vec::new();
    let mut current = String::new();
    let mut chars = dn.trim().chars();
    // Split on unescaped commas; escapes are kept as written.
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push(c);
                current.push(chars.next()?);
            }
            ',' | ';' => rdns.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    rdns.push(current);
    if rdns.len() == 1 && rdns[0].trim().is_empty() {
        return Some(String::new());
    }
    let mut canonical = Vec::with_capacity(rdns.len());
    for rdn in rdns {
        let mut parts = Vec::new();
        for part in rdn.split('+') {
            let (attribute, value) = part.split_once('=')?;
            let (attribute, value) = (attribute.trim(), value.trim());
            if attribute.is_empty() || !attribute.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
                return None;
            }
            parts.push(format!("{}={}", attribute.to_ascii_lowercase(), value.to_lowercase()));
        }
        canonical.push(parts.join("+"));
    }
    Some(canonical.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> LdapSettings {
        LdapSettings {
            ldap_host: Some("ldap1.example.com, ldap2.example.com".into()),
            ldap_user_search_base_dns: Some(r#"["ou=users,dc=example,dc=com"]"#.into()),
            ..LdapSettings::default()
        }
    }

    #[test]
    fn ldap_is_off_without_a_host_and_defaults_as_phoenix() {
        assert!(LdapSettings::default().directory_config().unwrap().is_none());
        let config = settings().directory_config().unwrap().unwrap();
        assert_eq!(config.hosts, ["ldap1.example.com", "ldap2.example.com"]);
        assert_eq!((config.port, config.tls_mode, config.tls_verify), (389, LdapTlsMode::Starttls, true));
        assert_eq!(config.groups, GroupLookup::MemberOf("memberOf".into()));
        let ldaps = LdapSettings { ldap_tls_mode: LdapTlsMode::Ldaps, ..settings() };
        assert_eq!(ldaps.directory_config().unwrap().unwrap().port, 636);
    }

    #[test]
    fn each_wrong_setting_is_named() {
        let cases = [
            (LdapSettings { ldap_user_search_base_dns: None, ..settings() }, "PHOENIX_LDAP_USER_SEARCH_BASE_DNS is required"),
            (LdapSettings { ldap_user_search_base_dns: Some("ou=users".into()), ..settings() }, "must be a JSON array"),
            (LdapSettings { ldap_user_search_filter: "(uid=alice)".into(), ..settings() }, "must contain %s"),
            (LdapSettings { ldap_bind_dn: Some("cn=svc".into()), ..settings() }, "PHOENIX_LDAP_BIND_PASSWORD is required"),
            (LdapSettings { ldap_attr_email: "null".into(), ..settings() }, "not supported"),
            (LdapSettings { ldap_group_search_filter: Some("(memberUid=%s)".into()), ..settings() }, "GROUP_SEARCH_BASE_DNS is required"),
            (LdapSettings { ldap_group_role_mappings: Some(r#"[{"group_dn": "cn=a", "role": "OWNER"}]"#.into()), ..settings() }, "OWNER"),
            (LdapSettings { ldap_group_role_mappings: Some(r#"{"group_dn": "cn=a"}"#.into()), ..settings() }, "JSON array"),
            (LdapSettings { ldap_tls_client_cert_file: Some("c.pem".into()), ..settings() }, "go together"),
        ];
        for (settings, expected) in cases {
            let refusal = settings.directory_config().unwrap_err();
            assert!(refusal.contains(expected), "{refusal:?} should contain {expected:?}");
        }
    }

    #[test]
    fn group_mappings_keep_their_order_and_canonical_dns() {
        let mappings = r#"[{"group_dn": "CN=Admins, OU=Groups,DC=Example,DC=com", "role": "admin"}, {"group_dn": "*", "role": "VIEWER"}]"#;
        let config = LdapSettings { ldap_group_role_mappings: Some(mappings.into()), ..settings() }.directory_config().unwrap().unwrap();
        assert_eq!(
            config.group_roles,
            [
                GroupRole { group_dn: "cn=admins,ou=groups,dc=example,dc=com".into(), role: Role::Admin },
                GroupRole { group_dn: "*".into(), role: Role::Viewer },
            ]
        );
    }

    #[test]
    fn dns_compare_without_case_or_spacing() {
        assert_eq!(canonical_dn("CN=Ann Lee , OU=People,dc=EX"), Some("cn=ann lee,ou=people,dc=ex".into()));
        assert_eq!(canonical_dn(r"cn=Lee\, Ann,dc=ex"), Some(r"cn=lee\, ann,dc=ex".into()));
        assert_eq!(canonical_dn("uid=a+cn=B,dc=ex"), Some("uid=a+cn=b,dc=ex".into()));
        assert_eq!(canonical_dn("not a dn"), None);
        assert_eq!(canonical_dn("cn=a,,dc=ex"), None);
    }
}
