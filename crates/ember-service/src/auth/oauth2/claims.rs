//! What a provider's claims (a verified ID token's, merged with its userinfo) say about a user, as
//! Phoenix reads them: the subject, the email at `EMAIL_ATTRIBUTE_PATH`, the name and groups, the
//! group check of `ALLOWED_GROUPS`, and the role of `ROLE_ATTRIBUTE_PATH` through `ROLE_MAPPING`
//! (strict: no role, no sign-in; else VIEWER).

use serde_json::Value;

use super::settings::ProviderSettings;
use crate::caller::Role;

/// Who the claims say the user is.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedUser {
    /// `sub`: the user's id at the provider.
    pub subject: String,
    /// Lowercased and trimmed.
    pub email: String,
    pub name: Option<String>,
}

/// Why the claims do not sign anyone in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimsRefusal {
    /// No usable `sub` or email.
    MissingIdentity(&'static str),
    /// In none of `ALLOWED_GROUPS`, or (strict) without a role.
    Denied(String),
}

/// The result of a JMESPath expression over the claims (`None` for null or an error).
pub(crate) fn search(expression: &str, claims: &Value) -> Option<Value> {
    let compiled = jmespath::compile(expression).ok()?;
    let found = compiled.search(jmespath::Variable::from_serializable(claims).ok()?).ok()?;
    serde_json::to_value(&*found).ok().filter(|value| !value.is_null())
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.trim().to_string()).filter(|text| !text.is_empty()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// The user's identity; `MissingIdentity` naming what is missing.
pub fn identity(settings: &ProviderSettings, claims: &Value) -> Result<ClaimedUser, ClaimsRefusal> {
    let subject = claims.get("sub").and_then(text).ok_or(ClaimsRefusal::MissingIdentity("sub"))?;
    let email = search(&settings.email_path, claims)
        .as_ref()
        .and_then(|value| value.as_str().map(str::trim).filter(|email| email.contains('@')).map(str::to_lowercase))
        .ok_or(ClaimsRefusal::MissingIdentity("email"))?;
    let name = claims.get("name").and_then(text);
    Ok(ClaimedUser { subject, email, name })
}

/// The user's groups at `GROUPS_ATTRIBUTE_PATH`: a string or a list of scalars.
pub fn groups(settings: &ProviderSettings, claims: &Value) -> Vec<String> {
    let Some(path) = &settings.groups_path else { return Vec::new() };
    match search(path, claims) {
        Some(Value::Array(items)) => items.iter().filter_map(text).collect(),
        Some(value) => text(&value).into_iter().collect(),
        None => Vec::new(),
    }
}

/// Whether the claims hold everything ember needs, or the userinfo endpoint must be asked.
pub fn sufficient(settings: &ProviderSettings, claims: &Value) -> bool {
    identity(settings, claims).is_ok()
        && (settings.groups_path.is_none() || !groups(settings, claims).is_empty())
        && settings.role_path.as_ref().is_none_or(|path| search(path, claims).as_ref().and_then(single_text).is_some())
}

fn single_text(value: &Value) -> Option<String> {
    match value {
        Value::Array(items) => items.first().and_then(text),
        other => text(other),
    }
}

/// `Denied` unless the user is in one of `ALLOWED_GROUPS` (when set).
pub fn check_access(settings: &ProviderSettings, claims: &Value) -> Result<(), ClaimsRefusal> {
    if settings.allowed_groups.is_empty() {
        return Ok(());
    }
    let groups = groups(settings, claims);
    match groups.iter().any(|group| settings.allowed_groups.contains(group)) {
        true => Ok(()),
        false => Err(ClaimsRefusal::Denied("the account belongs to none of the allowed groups".into())),
    }
}

/// The role the claims give: `None` without `ROLE_ATTRIBUTE_PATH` (an existing user keeps theirs,
/// a new one is a VIEWER); an unmapped or missing role is VIEWER, or `Denied` when strict.
pub fn role(settings: &ProviderSettings, claims: &Value) -> Result<Option<Role>, ClaimsRefusal> {
    let Some(path) = &settings.role_path else { return Ok(None) };
    let strict = |problem: String| if settings.role_strict { Err(ClaimsRefusal::Denied(problem)) } else { Ok(Some(Role::Viewer)) };
    let Some(value) = search(path, claims).as_ref().and_then(single_text) else {
        return strict(format!("no role at {path}"));
    };
    if !settings.role_mapping.is_empty() {
        return match settings.role_mapping.iter().find(|(idp_role, _)| *idp_role == value) {
            Some((_, role)) => Ok(Some(*role)),
            None => strict(format!("role {value:?} is not mapped")),
        };
    }
    match value.to_ascii_uppercase().as_str() {
        "ADMIN" => Ok(Some(Role::Admin)),
        "MEMBER" => Ok(Some(Role::Member)),
        "VIEWER" => Ok(Some(Role::Viewer)),
        _ => strict(format!("role {value:?} is not ADMIN, MEMBER or VIEWER")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::auth::oauth2::settings::providers_from_env;

    fn settings(extra: &[(&str, &str)]) -> ProviderSettings {
        let mut env = vec![
            ("PHOENIX_OAUTH2_IDP_CLIENT_ID".to_string(), "ember".to_string()),
            ("PHOENIX_OAUTH2_IDP_CLIENT_SECRET".to_string(), "s".to_string()),
            ("PHOENIX_OAUTH2_IDP_OIDC_CONFIG_URL".to_string(), "https://idp.example/.well-known/openid-configuration".to_string()),
        ];
        env.extend(extra.iter().map(|(key, value)| (format!("PHOENIX_OAUTH2_IDP_{key}"), value.to_string())));
        providers_from_env(env).unwrap().remove(0)
    }

    #[test]
    fn identity_reads_the_subject_and_the_email_at_its_path() {
        let claims = json!({"sub": 42, "email": " Ann@Example.COM ", "name": "Ann", "custom": {"mail": "a2@x.io"}});
        let user = identity(&settings(&[]), &claims).unwrap();
        assert_eq!(user, ClaimedUser { subject: "42".into(), email: "ann@example.com".into(), name: Some("Ann".into()) });
        assert_eq!(identity(&settings(&[("EMAIL_ATTRIBUTE_PATH", "custom.mail")]), &claims).unwrap().email, "a2@x.io");
        assert_eq!(identity(&settings(&[]), &json!({"sub": "1"})), Err(ClaimsRefusal::MissingIdentity("email")));
        assert_eq!(identity(&settings(&[]), &json!({"email": "a@b.c"})), Err(ClaimsRefusal::MissingIdentity("sub")));
    }

    #[test]
    fn groups_gate_sign_in_and_roles_map_as_phoenix_maps_them() {
        let gated = settings(&[("GROUPS_ATTRIBUTE_PATH", r#""cognito:groups""#), ("ALLOWED_GROUPS", "eng, ops")]);
        assert_eq!(check_access(&gated, &json!({"cognito:groups": ["sales", "ops"]})), Ok(()));
        assert!(matches!(check_access(&gated, &json!({"cognito:groups": ["sales"]})), Err(ClaimsRefusal::Denied(_))));
        assert!(matches!(check_access(&gated, &json!({})), Err(ClaimsRefusal::Denied(_))));

        let mapped = settings(&[("ROLE_ATTRIBUTE_PATH", "org.role"), ("ROLE_MAPPING", "Owner:ADMIN,Dev:member")]);
        assert_eq!(role(&mapped, &json!({"org": {"role": "Owner"}})), Ok(Some(Role::Admin)));
        assert_eq!(role(&mapped, &json!({"org": {"role": "owner"}})), Ok(Some(Role::Viewer)), "keys are exact; unmapped is VIEWER");
        assert_eq!(role(&mapped, &json!({})), Ok(Some(Role::Viewer)));
        let strict = settings(&[("ROLE_ATTRIBUTE_PATH", "org.role"), ("ROLE_MAPPING", "Owner:ADMIN"), ("ROLE_ATTRIBUTE_STRICT", "true")]);
        assert!(matches!(role(&strict, &json!({"org": {"role": "Guest"}})), Err(ClaimsRefusal::Denied(_))));
        let direct = settings(&[("ROLE_ATTRIBUTE_PATH", "contains(groups, 'admins') && 'ADMIN' || 'VIEWER'")]);
        assert_eq!(role(&direct, &json!({"groups": ["admins"]})), Ok(Some(Role::Admin)));
        assert_eq!(role(&direct, &json!({"groups": []})), Ok(Some(Role::Viewer)));
        assert_eq!(role(&settings(&[]), &json!({"role": "ADMIN"})), Ok(None), "no role path: roles are left alone");
    }

    #[test]
    fn userinfo_is_needed_when_a_configured_claim_is_missing() {
        let with_groups = settings(&[("GROUPS_ATTRIBUTE_PATH", "groups")]);
        assert!(sufficient(&with_groups, &json!({"sub": "1", "email": "a@b.c", "groups": ["x"]})));
        assert!(!sufficient(&with_groups, &json!({"sub": "1", "email": "a@b.c"})));
        assert!(!sufficient(&settings(&[]), &json!({"sub": "1"})));
    }
}
