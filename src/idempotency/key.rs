//! Idempotency keys: 1–255 printable ASCII characters, given bare or as a quoted
//! structured-field string (`Idempotency-Key: "8e03978e-40d5"`, RFC 8941 §3.3.3).

use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self> {
        let key = match raw.strip_prefix('"') {
            Some(rest) => unquote(rest)?,
            None => raw.to_owned(),
        };
        let printable = key.bytes().all(|b| (0x20..=0x7e).contains(&b));
        if key.is_empty() || key.len() > 255 || !printable {
            return Err(invalid());
        }
        Ok(Self(key))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn invalid() -> Error {
    Error::invalid(
        "idempotency_key",
        "value_error.idempotency_key",
        "must be 1–255 printable ASCII characters (bare, or a quoted string)",
    )
}

/// The body of an sf-string after its opening quote: `\"` and `\\` escapes, closing quote last.
fn unquote(rest: &str) -> Result<String> {
    let mut out = String::with_capacity(rest.len());
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('"' | '\\')) => out.push(e),
                _ => return Err(invalid()),
            },
            '"' => {
                return if chars.next().is_none() {
                    Ok(out)
                } else {
                    Err(invalid())
                };
            }
            c => out.push(c),
        }
    }
    Err(invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bare_and_quoted_keys() {
        assert_eq!(
            IdempotencyKey::parse("abc-123").unwrap().as_str(),
            "abc-123"
        );
        assert_eq!(
            IdempotencyKey::parse(r#""a \"b\" \\c""#).unwrap().as_str(),
            r#"a "b" \c"#
        );
        assert_eq!(
            IdempotencyKey::parse(&"k".repeat(255))
                .unwrap()
                .as_str()
                .len(),
            255
        );
        for bad in [
            "",
            "\"\"",
            "\"open",
            "\"x\"y",
            "é",
            "tab\there",
            &"k".repeat(256),
            "\"bad\\q\"",
        ] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
    }
}
