//! The identity providers of Phoenix's `PHOENIX_OAUTH2_{IDP}_{SETTING}` variables: any number of
//! them, each named by its `{IDP}` part (lowercased: `/oauth2/{idp}/login`). Their names are not
//! known in advance, so they are read from the environment's variables rather than from flags;
//! [`providers_from_env`] checks every value and names the variable that is wrong.

use std::collections::BTreeMap;

use crate::caller::Role;

/// The scopes every sign-in asks for (Phoenix's baseline); `SCOPES` adds to them.
const BASELINE_SCOPES: [&str; 3] = ["openid", "email", "profile"];
const SUFFIXES: [&str; 18] = [
    "DISPLAY_NAME",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "OIDC_CONFIG_URL",
    "ALLOW_SIGN_UP",
    "AUTO_LOGIN",
    "USE_PKCE",
    "TOKEN_ENDPOINT_AUTH_METHOD",
    "CLIENT_ASSERTION_FILE",
    "CLIENT_ASSERTION_FILE_ENV_VAR",
    "SCOPES",
    "EMAIL_ATTRIBUTE_PATH",
    "GROUPS_ATTRIBUTE_PATH",
    "ALLOWED_GROUPS",
    "ROLE_ATTRIBUTE_PATH",
    "ROLE_MAPPING",
    "ROLE_ATTRIBUTE_STRICT",
    "ROLE_RESYNC",
];

/// How ember proves itself at the provider's token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenEndpointAuth {
    /// The client id and secret in an HTTP Basic header (the default).
    ClientSecretBasic,
    /// The client id and secret in the form body.
    ClientSecretPost,
    /// No secret: a public client (with PKCE).
    None,
    /// A JWT the platform mints (RFC 7523), read from this file at every token request so that
    /// its rotation needs no restart.
    ClientAssertionJwt(std::path::PathBuf),
}

/// One identity provider's checked settings.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    /// `{IDP}` lowercased: the provider's name in URLs.
    pub name: String,
    pub display_name: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub oidc_config_url: url::Url,
    pub allow_sign_up: bool,
    pub auto_login: bool,
    pub use_pkce: bool,
    pub token_endpoint_auth: TokenEndpointAuth,
    pub scopes: Vec<String>,
    /// JMESPath expressions over the ID token's (and userinfo's) claims.
    pub email_path: String,
    pub groups_path: Option<String>,
    pub allowed_groups: Vec<String>,
    pub role_path: Option<String>,
    /// The provider's role values (compared exactly) to ember's roles.
    pub role_mapping: Vec<(String, Role)>,
    pub role_strict: bool,
    pub role_resync: bool,
}

fn boolean(name: &str, value: Option<&String>, default: bool) -> Result<bool, String> {
    match value.map(|value| value.trim().to_ascii_lowercase()) {
        None => Ok(default),
        Some(value) if value.is_empty() => Ok(default),
        Some(value) if matches!(value.as_str(), "true" | "1" | "yes" | "on") => Ok(true),
        Some(value) if matches!(value.as_str(), "false" | "0" | "no" | "off") => Ok(false),
        Some(_) => Err(format!("{name} must be true or false")),
    }
}

/// A JMESPath expression that compiles (the error names the variable).
fn path(name: &str, value: Option<&String>) -> Result<Option<String>, String> {
    let Some(value) = value.map(|value| value.trim()).filter(|value| !value.is_empty()) else {
        return Ok(None);
    };
    jmespath::compile(value).map_err(|error| format!("{name} is not a JMESPath expression: {error}"))?;
    Ok(Some(value.to_string()))
}

fn parse_role(text: &str) -> Option<Role> {
    match text.trim().to_ascii_uppercase().as_str() {
        "ADMIN" => Some(Role::Admin),
        "MEMBER" => Some(Role::Member),
        "VIEWER" => Some(Role::Viewer),
        _ => None,
    }
}

/// A name for the login button: `GOOGLE` → `Google`, `COMPANY_SSO` → `Company Sso`.
fn default_display_name(name: &str) -> String {
    name.split('_')
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map(|first| first.to_uppercase().chain(chars.flat_map(char::to_lowercase)).collect::<String>()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The providers configured in `vars` (the process's environment), sorted by name.
pub fn providers_from_env(vars: impl IntoIterator<Item = (String, String)>) -> Result<Vec<ProviderSettings>, String> {
    let mut grouped: BTreeMap<String, BTreeMap<&'static str, String>> = BTreeMap::new();
    for (key, value) in vars {
        let Some(rest) = key.strip_prefix("PHOENIX_OAUTH2_") else { continue };
        // The longest suffix that fits: `CLIENT_ASSERTION_FILE_ENV_VAR` before `CLIENT_ASSERTION_FILE`.
        let Some(suffix) = SUFFIXES.iter().filter(|suffix| rest.ends_with(&format!("_{suffix}"))).max_by_key(|suffix| suffix.len()) else {
            continue;
        };
        let idp = &rest[..rest.len() - suffix.len() - 1];
        if idp.is_empty() || !idp.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        grouped.entry(idp.to_ascii_lowercase()).or_default().insert(suffix, value);
    }
    grouped.into_iter().map(|(name, values)| provider(name, &values)).collect()
}

/// The assertion's file: `CLIENT_ASSERTION_FILE`, or the file named by the variable that
/// `CLIENT_ASSERTION_FILE_ENV_VAR` names (exactly one of the two).
fn assertion_file(var: &dyn Fn(&str) -> String, values: &BTreeMap<&'static str, String>) -> Result<std::path::PathBuf, String> {
    let get = |suffix: &str| values.get(suffix).filter(|value| !value.trim().is_empty());
    match (get("CLIENT_ASSERTION_FILE"), get("CLIENT_ASSERTION_FILE_ENV_VAR")) {
        (Some(path), None) => Ok(path.trim().into()),
        (None, Some(variable)) => std::env::var_os(variable.trim())
            .filter(|path| !path.is_empty())
            .map(Into::into)
            .ok_or_else(|| format!("{} names {}, which is not set", var("CLIENT_ASSERTION_FILE_ENV_VAR"), variable.trim())),
        _ => Err(format!(
            "client_assertion_jwt needs exactly one of {} and {}",
            var("CLIENT_ASSERTION_FILE"),
            var("CLIENT_ASSERTION_FILE_ENV_VAR")
        )),
    }
}

fn provider(name: String, values: &BTreeMap<&'static str, String>) -> Result<ProviderSettings, String> {
    let var = |suffix: &str| format!("PHOENIX_OAUTH2_{}_{suffix}", name.to_ascii_uppercase());
    let get = |suffix: &str| values.get(suffix).filter(|value| !value.trim().is_empty());
    let client_id = get("CLIENT_ID").map(|id| id.trim().to_string()).ok_or_else(|| format!("{} is required", var("CLIENT_ID")))?;
    let config_url = get("OIDC_CONFIG_URL").ok_or_else(|| format!("{} is required", var("OIDC_CONFIG_URL")))?;
    let oidc_config_url = url::Url::parse(config_url.trim()).map_err(|_| format!("{} must be a URL", var("OIDC_CONFIG_URL")))?;
    let loopback = matches!(oidc_config_url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    if oidc_config_url.scheme() != "https" && !(oidc_config_url.scheme() == "http" && loopback) {
        return Err(format!("{} must be an HTTPS URL (HTTP only on localhost)", var("OIDC_CONFIG_URL")));
    }
    let token_endpoint_auth = match get("TOKEN_ENDPOINT_AUTH_METHOD").map(|m| m.trim().to_ascii_lowercase()).as_deref() {
        None | Some("client_secret_basic") => TokenEndpointAuth::ClientSecretBasic,
        Some("client_secret_post") => TokenEndpointAuth::ClientSecretPost,
        Some("none") => TokenEndpointAuth::None,
        Some("client_assertion_jwt") => TokenEndpointAuth::ClientAssertionJwt(assertion_file(&var, values)?),
        Some(other) => {
            return Err(format!(
                "{} must be client_secret_basic, client_secret_post or none, not {other:?}",
                var("TOKEN_ENDPOINT_AUTH_METHOD")
            ))
        }
    };
    let client_secret = get("CLIENT_SECRET").cloned();
    let secretless = matches!(token_endpoint_auth, TokenEndpointAuth::None | TokenEndpointAuth::ClientAssertionJwt(_));
    if client_secret.is_none() && !secretless {
        return Err(format!("{} is required (unless {} is none)", var("CLIENT_SECRET"), var("TOKEN_ENDPOINT_AUTH_METHOD")));
    }
    let mut scopes: Vec<String> = BASELINE_SCOPES.iter().map(|scope| scope.to_string()).collect();
    for scope in get("SCOPES").map(|s| s.split_whitespace().collect::<Vec<_>>()).unwrap_or_default() {
        if !scopes.iter().any(|known| known == scope) {
            scopes.push(scope.to_string());
        }
    }
    let groups_path = path(&var("GROUPS_ATTRIBUTE_PATH"), get("GROUPS_ATTRIBUTE_PATH"))?;
    let allowed_groups: Vec<String> = get("ALLOWED_GROUPS")
        .map(|groups| groups.split(|c: char| c == ',' || c.is_whitespace()).filter(|g| !g.is_empty()).map(String::from).collect())
        .unwrap_or_default();
    if !allowed_groups.is_empty() && groups_path.is_none() {
        return Err(format!("{} needs {}", var("ALLOWED_GROUPS"), var("GROUPS_ATTRIBUTE_PATH")));
    }
    let role_path = path(&var("ROLE_ATTRIBUTE_PATH"), get("ROLE_ATTRIBUTE_PATH"))?;
    let mut role_mapping = Vec::new();
    for pair in get("ROLE_MAPPING").map(|m| m.split(',').map(str::trim).filter(|p| !p.is_empty()).collect::<Vec<_>>()).unwrap_or_default() {
        let (idp_role, role) =
            pair.rsplit_once(':').ok_or_else(|| format!("{} entries are IdpRole:ROLE, not {pair:?}", var("ROLE_MAPPING")))?;
        let role = parse_role(role).ok_or_else(|| format!("{}: {role:?} is not ADMIN, MEMBER or VIEWER", var("ROLE_MAPPING")))?;
        role_mapping.push((idp_role.trim().to_string(), role));
    }
    let role_resync = boolean(&var("ROLE_RESYNC"), get("ROLE_RESYNC"), true)?;
    if !role_resync && role_path.is_none() {
        return Err(format!("{}=false needs {}", var("ROLE_RESYNC"), var("ROLE_ATTRIBUTE_PATH")));
    }
    Ok(ProviderSettings {
        display_name: get("DISPLAY_NAME").map(|n| n.trim().to_string()).unwrap_or_else(|| default_display_name(&name)),
        client_id,
        client_secret,
        oidc_config_url,
        allow_sign_up: boolean(&var("ALLOW_SIGN_UP"), get("ALLOW_SIGN_UP"), true)?,
        auto_login: boolean(&var("AUTO_LOGIN"), get("AUTO_LOGIN"), false)?,
        use_pkce: boolean(&var("USE_PKCE"), get("USE_PKCE"), false)?,
        token_endpoint_auth,
        scopes,
        email_path: path(&var("EMAIL_ATTRIBUTE_PATH"), get("EMAIL_ATTRIBUTE_PATH"))?.unwrap_or_else(|| "email".into()),
        groups_path,
        allowed_groups,
        role_path,
        role_mapping,
        role_strict: boolean(&var("ROLE_ATTRIBUTE_STRICT"), get("ROLE_ATTRIBUTE_STRICT"), false)?,
        role_resync,
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect()
    }

    const BASE: [(&str, &str); 3] = [
        ("PHOENIX_OAUTH2_COMPANY_SSO_CLIENT_ID", "ember"),
        ("PHOENIX_OAUTH2_COMPANY_SSO_CLIENT_SECRET", "s3cret"),
        ("PHOENIX_OAUTH2_COMPANY_SSO_OIDC_CONFIG_URL", "https://idp.example/.well-known/openid-configuration"),
    ];

    #[test]
    fn providers_are_named_by_their_variables_with_phoenix_defaults() {
        let mut env = vars(&BASE);
        env.extend(vars(&[("PHOENIX_OAUTH2_GOOGLE_CLIENT_ID", "g"), ("PHOENIX_OAUTH2_GOOGLE_CLIENT_SECRET", "x")]));
        env.push(("PHOENIX_OAUTH2_GOOGLE_OIDC_CONFIG_URL".into(), "http://localhost:9/.well-known/openid-configuration".into()));
        env.push(("PHOENIX_OAUTH2_GOOGLE_SCOPES".into(), "groups offline_access email".into()));
        env.push(("UNRELATED".into(), "x".into()));
        let providers = providers_from_env(env).unwrap();
        assert_eq!(providers.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["company_sso", "google"]);
        let sso = &providers[0];
        assert_eq!((sso.display_name.as_str(), sso.allow_sign_up, sso.auto_login, sso.use_pkce), ("Company Sso", true, false, false));
        assert_eq!(
            (&sso.token_endpoint_auth, sso.email_path.as_str(), sso.role_resync),
            (&TokenEndpointAuth::ClientSecretBasic, "email", true)
        );
        assert_eq!(providers[1].scopes, ["openid", "email", "profile", "groups", "offline_access"]);
    }

    #[test]
    fn each_wrong_setting_is_named() {
        let with = |extra: &[(&str, &str)]| {
            let mut env = vars(&BASE);
            for (key, value) in extra {
                env.retain(|(k, _)| k != key);
                env.push((key.to_string(), value.to_string()));
            }
            providers_from_env(env).unwrap_err()
        };
        let cases: [(&[(&str, &str)], &str); 9] = [
            (&[("PHOENIX_OAUTH2_COMPANY_SSO_CLIENT_SECRET", "")], "PHOENIX_OAUTH2_COMPANY_SSO_CLIENT_SECRET is required"),
            (&[("PHOENIX_OAUTH2_COMPANY_SSO_OIDC_CONFIG_URL", "http://idp.example/x")], "must be an HTTPS URL"),
            (&[("PHOENIX_OAUTH2_COMPANY_SSO_TOKEN_ENDPOINT_AUTH_METHOD", "magic")], "client_secret_basic, client_secret_post or none"),
            (&[("PHOENIX_OAUTH2_COMPANY_SSO_ALLOWED_GROUPS", "admins")], "needs PHOENIX_OAUTH2_COMPANY_SSO_GROUPS_ATTRIBUTE_PATH"),
            (&[("PHOENIX_OAUTH2_COMPANY_SSO_ROLE_MAPPING", "Owner:SYSTEM")], "not ADMIN, MEMBER or VIEWER"),
            (&[("PHOENIX_OAUTH2_COMPANY_SSO_ROLE_RESYNC", "false")], "needs PHOENIX_OAUTH2_COMPANY_SSO_ROLE_ATTRIBUTE_PATH"),
            (&[("PHOENIX_OAUTH2_COMPANY_SSO_GROUPS_ATTRIBUTE_PATH", "groups[")], "not a JMESPath expression"),
            (&[("PHOENIX_OAUTH2_COMPANY_SSO_AUTO_LOGIN", "maybe")], "AUTO_LOGIN must be true or false"),
            (&[("PHOENIX_OAUTH2_COMPANY_SSO_TOKEN_ENDPOINT_AUTH_METHOD", "client_assertion_jwt")], "needs exactly one of"),
        ];
        for (extra, expected) in cases {
            let refusal = with(extra);
            assert!(refusal.contains(expected), "{refusal:?} should contain {expected:?}");
        }
        let public = providers_from_env(vars(&[
            ("PHOENIX_OAUTH2_PUB_CLIENT_ID", "ember"),
            ("PHOENIX_OAUTH2_PUB_OIDC_CONFIG_URL", "https://idp.example/.well-known/openid-configuration"),
            ("PHOENIX_OAUTH2_PUB_TOKEN_ENDPOINT_AUTH_METHOD", "none"),
            ("PHOENIX_OAUTH2_PUB_ROLE_MAPPING", "Owner:admin, Dev:MEMBER"),
        ]))
        .unwrap();
        assert_eq!(public[0].client_secret, None);
        assert_eq!(public[0].role_mapping, [("Owner".to_string(), Role::Admin), ("Dev".to_string(), Role::Member)]);
    }
}
