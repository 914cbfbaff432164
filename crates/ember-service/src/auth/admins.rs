//! `PHOENIX_ADMINS`: the admins every deployment starts with, `Name=email;Name2=email2`, read as
//! Phoenix reads it (the last `=` of a pair splits it, emails trimmed and lowercased, blank pairs
//! skipped, a duplicate username or email refused in Phoenix's words). At startup each admin
//! whose email and username are both free is created; existing users are never changed.

/// The `(username, email)` pairs, in order, or why the setting cannot be used.
pub fn parse(setting: &str) -> Result<Vec<(String, String)>, String> {
    const NAME: &str = "PHOENIX_ADMINS";
    let mut admins: Vec<(String, String)> = Vec::new();
    for pair in setting.split(';').map(str::trim).filter(|pair| !pair.is_empty()) {
        let Some((username, email)) = pair.rsplit_once('=') else {
            return Err(format!("Invalid format in {NAME}: '{pair}'. Expected format: 'username=email'"));
        };
        let (username, email) = (username.trim().to_string(), email.trim().to_lowercase());
        if !is_email(&email) {
            return Err(format!("Invalid email in {NAME}: '{email}'"));
        }
        if admins.iter().any(|(known, _)| *known == username) {
            return Err(format!("Duplicate username in {NAME}: '{username}'"));
        }
        if admins.iter().any(|(_, known)| *known == email) {
            return Err(format!("Duplicate email in {NAME}: '{email}'"));
        }
        admins.push((username, email));
    }
    Ok(admins)
}

/// `local@domain.tld` without spaces, which is what Phoenix's email check accepts here.
fn is_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.split('.').count() >= 2
                && domain.split('.').all(|label| !label.is_empty())
                && !email.contains(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admins_are_read_as_phoenix_reads_them() {
        assert_eq!(
            parse(" Jane Doe = Jane@Example.com ;; a=b=c@x.org;").unwrap(),
            [("Jane Doe".to_string(), "jane@example.com".to_string()), ("a=b".to_string(), "c@x.org".to_string())]
        );
        assert_eq!(parse("nobody").unwrap_err(), "Invalid format in PHOENIX_ADMINS: 'nobody'. Expected format: 'username=email'");
        assert_eq!(parse("a=not-an-email").unwrap_err(), "Invalid email in PHOENIX_ADMINS: 'not-an-email'");
        assert_eq!(parse("a=x@y.com;a=z@y.com").unwrap_err(), "Duplicate username in PHOENIX_ADMINS: 'a'");
        assert_eq!(
            parse("John=john@example.com;Johnny=JOHN@example.com").unwrap_err(),
            "Duplicate email in PHOENIX_ADMINS: 'john@example.com'"
        );
    }
}
