//! The rules Phoenix holds passwords and its server secrets to, with Phoenix's wording: never
//! empty, no whitespace, ASCII only, then a minimum length and the kinds of character required,
//! every broken rule named in one sentence ("a, b, and c").

/// What a password (or secret) must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirements {
    pub length: usize,
    pub digit: bool,
    pub lower_case: bool,
    pub upper_case: bool,
    pub special: bool,
}

/// Phoenix's default password policy.
pub const PASSWORD: Requirements = Requirements { length: 4, digit: false, lower_case: false, upper_case: false, special: false };
/// `PHOENIX_ENABLE_STRONG_PASSWORD_POLICY`.
pub const STRONG_PASSWORD: Requirements = Requirements { length: 12, digit: true, lower_case: true, upper_case: true, special: true };
/// `PHOENIX_SECRET` and `PHOENIX_ADMIN_SECRET`.
pub const SECRET: Requirements = Requirements { length: 32, digit: true, lower_case: true, upper_case: false, special: false };

/// The special characters Phoenix counts.
const SPECIAL: &str = "!@#$%^&*()_+";

impl Requirements {
    /// Why `text` breaks the rules, naming it `subject` ("Password", "Phoenix secret").
    pub fn violation(&self, text: &str, subject: &str) -> Option<String> {
        if text.is_empty() {
            return Some(format!("{subject} must be non-empty"));
        }
        if text.chars().any(char::is_whitespace) {
            return Some(format!("{subject} must not contain whitespace characters"));
        }
        if !text.is_ascii() {
            return Some(format!("{subject} must contain only ASCII characters"));
        }
        let length = format!("must be at least {} characters long", self.length);
        let rules: [(bool, &str); 5] = [
            (text.len() < self.length, &length),
            (self.digit && !text.bytes().any(|b| b.is_ascii_digit()), "at least one digit"),
            (self.lower_case && !text.bytes().any(|b| b.is_ascii_lowercase()), "at least one lowercase letter"),
            (self.upper_case && !text.bytes().any(|b| b.is_ascii_uppercase()), "at least one uppercase letter"),
            (self.special && !text.chars().any(|c| SPECIAL.contains(c)), "at least one special character"),
        ];
        let broken: Vec<&str> = rules.iter().filter(|(broken, _)| *broken).map(|(_, rule)| *rule).collect();
        let joined = match broken.as_slice() {
            [] => return None,
            [only] => only.to_string(),
            [init @ .., last] => format!("{}, and {last}", init.join(", ")),
        };
        Some(format!("{subject} {joined}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_broken_rule_is_named_in_phoenix_words() {
        assert_eq!(PASSWORD.violation("abc", "Password").as_deref(), Some("Password must be at least 4 characters long"));
        assert_eq!(PASSWORD.violation("ab cd", "Password").as_deref(), Some("Password must not contain whitespace characters"));
        assert_eq!(PASSWORD.violation("pässword", "Password").as_deref(), Some("Password must contain only ASCII characters"));
        assert_eq!(PASSWORD.violation("abcd", "Password"), None);
        assert_eq!(
            STRONG_PASSWORD.violation("abcdefgh", "Password").as_deref(),
            Some(
                "Password must be at least 12 characters long, at least one digit, at least one uppercase letter, and at least one special character"
            )
        );
        assert_eq!(STRONG_PASSWORD.violation("Abcdefgh123!", "Password"), None);
        assert_eq!(SECRET.violation("short1", "Phoenix secret").as_deref(), Some("Phoenix secret must be at least 32 characters long"));
    }
}
