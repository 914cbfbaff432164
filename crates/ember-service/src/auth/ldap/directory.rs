//! Asking the directory who someone is: find the user's entry (as the service account, or
//! anonymously), check their password by binding as them on a connection of its own, read their
//! email, name and immutable id, find their groups and map them to a role. Servers are tried in
//! turn only when one cannot be reached: "no such user" and "wrong password" are final answers.
//! Internal details (DNs, server errors) go to the log, never to the caller.

use std::sync::Arc;
use std::time::Duration;

use ldap3::{ldap_escape, Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::settings::{canonical_dn, DirectoryConfig, GroupLookup, GroupRole, LdapTlsMode};
use crate::caller::Role;

/// Longest name and password taken (anything longer is refused before the directory is asked).
const MAX_USERNAME_LENGTH: usize = 256;
const MAX_PASSWORD_LENGTH: usize = 1024;
/// How long connecting to one server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one sign-in may take in all.
const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(30);
/// A DN no directory has, bound to when the user is not found so that an unknown name takes as
/// long as a wrong password.
const DECOY_DN: &str = "cn=ember-nonexistent-decoy,dc=invalid";

/// Who the directory says a user is.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectoryUser {
    pub email: String,
    pub display_name: String,
    /// The immutable id, lowercased, when `PHOENIX_LDAP_ATTR_UNIQUE_ID` is set.
    pub unique_id: Option<String>,
    pub role: Role,
}

/// A directory ember signs users in against.
pub struct Directory {
    config: DirectoryConfig,
    /// The TLS client settings, when they differ from ldap3's defaults (a CA file, a client
    /// certificate).
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory").field("hosts", &self.config.hosts).finish_non_exhaustive()
    }
}

/// Why a server could not answer (it is logged and the next server tried).
type Unreachable = ldap3::LdapError;

impl Directory {
    /// The directory of `config`, its certificate files read now (`Err` naming a file that
    /// cannot be used).
    pub fn new(config: DirectoryConfig) -> Result<Directory, String> {
        let tls = tls_config(&config)?;
        Ok(Directory { config, tls })
    }

    pub fn allow_sign_up(&self) -> bool {
        self.config.allow_sign_up
    }

    /// Whether users are identified by an immutable directory id rather than by email.
    pub fn identifies_by_unique_id(&self) -> bool {
        self.config.attr_unique_id.is_some()
    }

    /// The user `username` is with `password`, or `None`: unknown, wrong password, in no mapped
    /// group, missing a required attribute, or no server answered.
    pub async fn authenticate(&self, username: &str, password: &str) -> Option<DirectoryUser> {
        let username = username.trim();
        // An empty password is an "unauthenticated bind", which many directories accept.
        if username.is_empty() || password.is_empty() || username.len() > MAX_USERNAME_LENGTH || password.len() > MAX_PASSWORD_LENGTH {
            return None;
        }
        match tokio::time::timeout(SIGN_IN_TIMEOUT, self.authenticate_on_any_server(username, password)).await {
            Ok(found) => found,
            Err(_) => {
                tracing::error!(timeout_secs = SIGN_IN_TIMEOUT.as_secs(), "LDAP sign-in timed out");
                None
            }
        }
    }

    async fn authenticate_on_any_server(&self, username: &str, password: &str) -> Option<DirectoryUser> {
        for host in &self.config.hosts {
            match self.authenticate_on(host, username, password).await {
                Ok(found) => return found,
                Err(error) => tracing::warn!(%host, %error, "LDAP server failed; trying the next"),
            }
        }
        tracing::error!("no LDAP server answered");
        None
    }

    fn url(&self, host: &str) -> String {
        let scheme = if self.config.tls_mode == LdapTlsMode::Ldaps { "ldaps" } else { "ldap" };
        let host = if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host.to_string() };
        format!("{scheme}://{host}:{}", self.config.port)
    }

    async fn connect(&self, host: &str) -> Result<Ldap, Unreachable> {
        let mut settings = LdapConnSettings::new()
            .set_conn_timeout(CONNECT_TIMEOUT)
            .set_starttls(self.config.tls_mode == LdapTlsMode::Starttls)
            .set_no_tls_verify(!self.config.tls_verify);
        if let Some(tls) = &self.tls {
            settings = settings.set_config(tls.clone());
        }
        let (connection, ldap) = LdapConnAsync::with_settings(settings, &self.url(host)).await?;
        tokio::spawn(async move {
            if let Err(error) = connection.drive().await {
                tracing::debug!(%error, "LDAP connection ended");
            }
        });
        Ok(ldap)
    }

    /// `Err` only when this server could not be used; `Ok(None)` is the directory's answer.
    async fn authenticate_on(&self, host: &str, username: &str, password: &str) -> Result<Option<DirectoryUser>, Unreachable> {
        let mut service = self.connect(host).await?;
        if let Some((dn, bind_password)) = &self.config.bind {
            service.simple_bind(dn, bind_password).await?.success()?;
        }
        let Some(entry) = self.find_user(&mut service, username).await? else {
            self.bind_as(host, DECOY_DN, password).await?;
            tracing::info!("LDAP sign-in: no such user");
            let _ = service.unbind().await;
            return Ok(None);
        };
        if !self.bind_as(host, &entry.dn, password).await? {
            tracing::info!("LDAP sign-in: wrong password");
            let _ = service.unbind().await;
            return Ok(None);
        }
        let user = self.describe(&mut service, &entry, username).await;
        let _ = service.unbind().await;
        user
    }

    /// The one entry the user filter finds under the first base that has it; `None` when no
    /// base has it or a base has more than one (which entry would be arbitrary).
    async fn find_user(&self, ldap: &mut Ldap, username: &str) -> Result<Option<SearchEntry>, Unreachable> {
        let filter = self.config.user_search_filter.replace("%s", &ldap_escape(username));
        let mut attributes = vec![self.config.attr_email.as_str(), self.config.attr_display_name.as_str()];
        attributes.extend(self.config.attr_unique_id.as_deref());
        match &self.config.groups {
            GroupLookup::MemberOf(attribute) => attributes.push(attribute),
            GroupLookup::Search { user_attr, .. } => attributes.extend(user_attr.as_deref()),
        }
        for base in &self.config.user_search_base_dns {
            let (entries, _) = ldap.search(base, Scope::Subtree, &filter, &attributes).await?.success()?;
            match entries.len() {
                0 => continue,
                1 => return Ok(entries.into_iter().next().map(SearchEntry::construct)),
                found => {
                    tracing::error!(found, %base, "LDAP user search matched several entries: make PHOENIX_LDAP_USER_SEARCH_FILTER specific");
                    return Ok(None);
                }
            }
        }
        Ok(None)
    }

    /// Whether `password` is `dn`'s, checked on a connection of its own.
    async fn bind_as(&self, host: &str, dn: &str, password: &str) -> Result<bool, Unreachable> {
        let mut ldap = self.connect(host).await?;
        let bound = ldap.simple_bind(dn, password).await?;
        let _ = ldap.unbind().await;
        Ok(bound.rc == 0)
    }

    async fn describe(&self, service: &mut Ldap, entry: &SearchEntry, username: &str) -> Result<Option<DirectoryUser>, Unreachable> {
        let Some(email) = first_value(entry, &self.config.attr_email) else {
            tracing::error!(attribute = %self.config.attr_email, "LDAP user has no email: fill the attribute or fix PHOENIX_LDAP_ATTR_EMAIL");
            return Ok(None);
        };
        let unique_id = match &self.config.attr_unique_id {
            Some(attribute) => match unique_id(entry, attribute) {
                Some(id) => Some(id),
                None => {
                    tracing::error!(%attribute, "LDAP user has no unique id: check PHOENIX_LDAP_ATTR_UNIQUE_ID");
                    return Ok(None);
                }
            },
            None => None,
        };
        let groups = self.groups(service, entry, username).await?;
        let Some(role) = role_of(&self.config.group_roles, &groups) else {
            tracing::info!("LDAP sign-in refused: the user is in no group of PHOENIX_LDAP_GROUP_ROLE_MAPPINGS");
            return Ok(None);
        };
        let display_name = first_value(entry, &self.config.attr_display_name).unwrap_or_else(|| username.to_string());
        Ok(Some(DirectoryUser { email, display_name, unique_id, role }))
    }

    async fn groups(&self, service: &mut Ldap, entry: &SearchEntry, username: &str) -> Result<Vec<String>, Unreachable> {
        match &self.config.groups {
            GroupLookup::MemberOf(attribute) => Ok(values(entry, attribute).to_vec()),
            GroupLookup::Search { base_dns, filter, user_attr } => {
                let member = match user_attr {
                    Some(attribute) => match first_value(entry, attribute) {
                        Some(value) => value,
                        None => return Ok(Vec::new()),
                    },
                    None => username.to_string(),
                };
                let filter = filter.replace("%s", &ldap_escape(member.as_str()));
                let mut groups = Vec::new();
                for base in base_dns {
                    let (entries, _) = service.search(base, Scope::Subtree, &filter, vec!["1.1"]).await?.success()?;
                    groups.extend(entries.into_iter().map(|entry| SearchEntry::construct(entry).dn));
                }
                Ok(groups)
            }
        }
    }
}

/// The role of the first rule a group of the user's matches (`*` matches everyone).
pub(crate) fn role_of(rules: &[GroupRole], groups: &[String]) -> Option<Role> {
    let groups: Vec<String> = groups.iter().filter_map(|group| canonical_dn(group)).collect();
    rules.iter().find(|rule| rule.group_dn == "*" || groups.contains(&rule.group_dn)).map(|rule| rule.role)
}

/// An attribute's values (attribute names compare without regard to case).
fn values<'a>(entry: &'a SearchEntry, attribute: &str) -> &'a [String] {
    entry.attrs.iter().find(|(name, _)| name.eq_ignore_ascii_case(attribute)).map(|(_, values)| values.as_slice()).unwrap_or_default()
}

fn first_value(entry: &SearchEntry, attribute: &str) -> Option<String> {
    values(entry, attribute).first().map(|value| value.trim().to_string()).filter(|value| !value.is_empty())
}

/// A UUID-valued id as lowercase text: a string (entryUUID, nsUniqueId) as it is, 16 bytes
/// (Active Directory's objectGUID) in Microsoft's mixed-endian layout.
fn unique_id(entry: &SearchEntry, attribute: &str) -> Option<String> {
    if let Some(text) = first_value(entry, attribute) {
        return Some(text.to_lowercase());
    }
    let bytes = entry.bin_attrs.iter().find(|(name, _)| name.eq_ignore_ascii_case(attribute))?.1.first()?;
    let bytes: [u8; 16] = bytes.as_slice().try_into().ok()?;
    Some(uuid::Uuid::from_bytes_le(bytes).to_string())
}

/// TLS client settings for a CA file or a client certificate; `None` leaves ldap3's own (the
/// system's roots, or no check with `PHOENIX_LDAP_TLS_VERIFY=false`).
fn tls_config(config: &DirectoryConfig) -> Result<Option<Arc<rustls::ClientConfig>>, String> {
    if config.tls_mode == LdapTlsMode::None || (config.ca_cert_file.is_none() && config.client_cert.is_none()) {
        return Ok(None);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    match &config.ca_cert_file {
        Some(path) => {
            for cert in read_certs(path, "PHOENIX_LDAP_TLS_CA_CERT_FILE")? {
                roots.add(cert).map_err(|error| format!("PHOENIX_LDAP_TLS_CA_CERT_FILE {}: {error}", path.display()))?;
            }
        }
        None => {
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        }
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .with_root_certificates(roots);
    let mut tls = match &config.client_cert {
        Some((cert_path, key_path)) => {
            let certs = read_certs(cert_path, "PHOENIX_LDAP_TLS_CLIENT_CERT_FILE")?;
            let key = read_key(key_path)?;
            builder.with_client_auth_cert(certs, key).map_err(|error| format!("PHOENIX_LDAP_TLS_CLIENT_KEY_FILE: {error}"))?
        }
        None => builder.with_no_client_auth(),
    };
    if !config.tls_verify {
        tls.dangerous().set_certificate_verifier(Arc::new(NoVerification(rustls::crypto::ring::default_provider())));
    }
    Ok(Some(Arc::new(tls)))
}

fn read_certs(path: &std::path::Path, setting: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|error| format!("{setting} {}: {error}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{setting} {} holds no PEM certificate", path.display()));
    }
    Ok(certs)
}

fn read_key(path: &std::path::Path) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_file(path).map_err(|error| format!("PHOENIX_LDAP_TLS_CLIENT_KEY_FILE {}: {error}", path.display()))
}

/// Accepts any certificate (`PHOENIX_LDAP_TLS_VERIFY=false` with a client certificate), still
/// checking the handshake's signatures.
#[derive(Debug)]
struct NoVerification(rustls::crypto::CryptoProvider);

impl rustls::client::danger::ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(group_dn: &str, role: Role) -> GroupRole {
        GroupRole { group_dn: group_dn.into(), role }
    }

    #[test]
    fn the_first_matching_rule_gives_the_role() {
        let rules = [rule("cn=admins,ou=groups,dc=ex", Role::Admin), rule("cn=devs,ou=groups,dc=ex", Role::Member)];
        let both = ["CN=Devs, OU=Groups, DC=ex".to_string(), "cn=admins,ou=groups,dc=ex".to_string()];
        assert_eq!(role_of(&rules, &both), Some(Role::Admin), "rule order decides, not group order");
        assert_eq!(role_of(&rules, &both[..1]), Some(Role::Member));
        assert_eq!(role_of(&rules, &["cn=others,dc=ex".to_string()]), None, "no rule matches: no sign-in");
        let with_everyone = [rule("cn=admins,ou=groups,dc=ex", Role::Admin), rule("*", Role::Viewer)];
        assert_eq!(role_of(&with_everyone, &[]), Some(Role::Viewer));
    }

    #[test]
    fn an_object_guid_reads_as_microsoft_lays_it_out() {
        let guid = [0xc7, 0xe4, 0x12, 0x22, 0x1e, 0x05, 0x0c, 0x4d, 0x9a, 0x5b, 0x12, 0x77, 0x0a, 0x9b, 0xb7, 0xab];
        let entry = SearchEntry {
            dn: "cn=a".into(),
            attrs: Default::default(),
            bin_attrs: [("objectGUID".to_string(), vec![guid.to_vec()])].into_iter().collect(),
        };
        assert_eq!(unique_id(&entry, "objectguid").as_deref(), Some("2212e4c7-051e-4d0c-9a5b-12770a9bb7ab"));
        let text = SearchEntry {
            dn: "cn=a".into(),
            attrs: [("entryUUID".to_string(), vec!["7C4B0EB6-8566-1041-94EE-670F843D262E".to_string()])].into_iter().collect(),
            bin_attrs: Default::default(),
        };
        assert_eq!(unique_id(&text, "entryUUID").as_deref(), Some("7c4b0eb6-8566-1041-94ee-670f843d262e"));
    }
}
