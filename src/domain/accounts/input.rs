//! Newtypes that parse account input once ("parse, don't validate").

use crate::bounds::{DISPLAY_NAME, EMAIL_MAX, PASSWORD};
use crate::error::FieldError;

/// A syntactically valid email address, trimmed and lowercased (emails compare
/// case-insensitively everywhere in NeoForge).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let email = raw.trim().to_lowercase();
        if email.len() > EMAIL_MAX || !email_address::EmailAddress::is_valid(&email) {
            return Err(FieldError::new(
                "email",
                "value_error.email",
                "not a valid email address",
            ));
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password of acceptable length (8–128 characters). Never logged or displayed.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let len = raw.chars().count();
        if !(PASSWORD.min..=PASSWORD.max).contains(&len) {
            return Err(FieldError::new(
                "password",
                "value_error.length",
                "must be between 8 and 128 characters",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(self) -> String {
        self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// 1–100 characters after trimming, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let name = raw.trim();
        let len = name.chars().count();
        if !(DISPLAY_NAME.min..=DISPLAY_NAME.max).contains(&len) {
            return Err(FieldError::new(
                "display_name",
                "value_error.length",
                "must be between 1 and 100 characters",
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(FieldError::new(
                "display_name",
                "value_error.chars",
                "must not contain control characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        for bad in [
            "",
            "no-at-sign",
            "a@",
            "@b.c",
            &format!("{}@x.io", "a".repeat(320)),
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_count_characters_not_bytes() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("ééééééé").is_err());
        assert!(Password::parse("éééééééé").is_ok());
        assert!(Password::parse(&"x".repeat(129)).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("secret-password").unwrap()),
            "Password(***)"
        );
    }

    #[test]
    fn display_names_are_trimmed() {
        assert_eq!(DisplayName::parse("  Ada  ").unwrap().into_inner(), "Ada");
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse("a\u{0}b").is_err());
    }
}
