//! Validation of free text shared by every aggregate.

use crate::error::FieldError;

/// Trims `raw` and checks its length in characters (and that single-line fields carry no
/// control characters). Returns the cleaned text.
pub fn bounded(
    field: &str,
    raw: &str,
    min: usize,
    max: usize,
    single_line: bool,
) -> Result<String, FieldError> {
    let text = if single_line { raw.trim() } else { raw };
    let len = text.chars().count();
    if len < min || len > max {
        let msg = if min == 0 {
            format!("must be at most {max} characters")
        } else {
            format!("must be between {min} and {max} characters")
        };
        return Err(FieldError::new(field, "value_error.length", msg));
    }
    // NUL is never text (PostgreSQL refuses to store it), even in multi-line fields.
    if text.contains('\0') || (single_line && text.chars().any(char::is_control)) {
        return Err(FieldError::new(
            field,
            "value_error.chars",
            "must not contain control characters",
        ));
    }
    if !single_line && min > 0 && text.trim().is_empty() {
        return Err(FieldError::new(
            field,
            "value_error.length",
            "must not be blank",
        ));
    }
    Ok(text.to_owned())
}

/// A lowercase slug: `a-z`, `0-9` and single inner hyphens, 1..=max characters.
pub fn slug(field: &str, raw: &str, max: usize) -> Result<String, FieldError> {
    let s = raw.trim();
    let valid = !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--");
    if valid {
        Ok(s.to_owned())
    } else {
        Err(FieldError::new(
            field,
            "value_error.slug",
            format!("must be a lowercase slug (a-z, 0-9, inner hyphens), at most {max} characters"),
        ))
    }
}

/// The first `max` characters of `s` (all of it when shorter), cut at a character boundary:
/// what is kept of a client-supplied header that is recorded, not refused.
pub fn first_chars(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    match s.char_indices().nth(max) {
        Some((end, _)) => &s[..end],
        None => s,
    }
}

/// Gathers field errors: `Ok` only when every check passed.
#[derive(Default)]
pub struct Checks(Vec<FieldError>);

impl Checks {
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        result.map_err(|e| self.0.push(e)).ok()
    }

    pub fn finish(self) -> crate::error::Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(crate::error::Error::Validation(self.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_and_slugs() {
        assert_eq!(bounded("name", "  Forge ", 1, 120, true).unwrap(), "Forge");
        assert!(bounded("name", "   ", 1, 120, true).is_err());
        assert!(bounded("body", "  \n ", 1, 10, false).is_err());
        assert!(bounded("name", &"é".repeat(121), 1, 120, true).is_err());
        assert!(bounded("name", &"é".repeat(120), 1, 120, true).is_ok());
        assert_eq!(slug("tag", "rust-lang", 32).unwrap(), "rust-lang");
        for bad in ["Rust", "-a", "a-", "a--b", "", "a b", "ü"] {
            assert!(slug("tag", bad, 32).is_err(), "{bad}");
        }
    }

    #[test]
    fn first_chars_counts_characters_not_bytes() {
        assert_eq!(first_chars("abc", 5), "abc");
        assert_eq!(first_chars("abcdef", 3), "abc");
        assert_eq!(first_chars("ééé", 2), "éé");
        assert_eq!(first_chars("ééé", 3), "ééé");
        assert_eq!(first_chars("aé", 1), "a");
        assert_eq!(first_chars("", 0), "");
    }
}
