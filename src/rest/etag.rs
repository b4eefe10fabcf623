//! Entity tags and conditional requests (docs/api.md, "ETags and conditional requests"; RFC 9110
//! §8.8.3, §13).
//!
//! Single resources: `"<type>-<id>-v<version>"` (strong; parsed back to the version for
//! `If-Match`). Lists and other bodies: `"<sha-256 of the body, hex>"` (strong).

use sha2::{Digest, Sha256};

pub fn for_resource(kind: &str, id: &str, version: i64) -> String {
    // Built by hand rather than with `format!`, whose formatting machinery costs more than these
    // pushes: this runs on every single-resource read.
    let mut version_text = itoa::Buffer::new();
    let version = version_text.format(version);
    let mut tag = String::with_capacity(kind.len() + id.len() + version.len() + 5);
    for part in ["\"", kind, "-", id, "-v", version, "\""] {
        tag.push_str(part);
    }
    tag
}

pub fn for_body(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("\"{}\"", hex::encode(&digest[..16]))
}

/// One entity tag of a header list: (weak, opaque tag including its quotes).
fn tags(header: &str) -> impl Iterator<Item = (bool, &str)> {
    header.split(',').filter_map(|t| {
        let t = t.trim();
        let (weak, t) = match t.strip_prefix("W/") {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        (t.len() >= 2 && t.starts_with('"') && t.ends_with('"')).then_some((weak, t))
    })
}

/// `If-None-Match` against the current ETag: weak comparison, `*`, lists.
pub fn none_match(header: &str, current: &str) -> bool {
    if header.trim() == "*" {
        return true;
    }
    let current = current.strip_prefix("W/").unwrap_or(current);
    tags(header).any(|(_, t)| t == current)
}

/// What `If-Match` asks of a write.
#[derive(Debug, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: the resource must exist.
    Any,
    /// The resource must be at this version.
    Version(i32),
    /// No tag could ever match this resource (weak tags, another resource, unparseable).
    Never,
}

/// Parses `If-Match` for the resource `kind`/`id` (strong comparison: weak tags never match).
pub fn if_match(header: &str, kind: &str, id: &str) -> IfMatch {
    if header.trim() == "*" {
        return IfMatch::Any;
    }
    let prefix = format!("\"{kind}-{id}-v");
    tags(header)
        .filter(|(weak, _)| !weak)
        .find_map(|(_, t)| {
            t.strip_prefix(&prefix)?
                .strip_suffix('"')?
                // Versions are 32-bit; a larger number is a tag no resource ever had.
                .parse::<i32>()
                .ok()
                .filter(|v| *v >= 1)
        })
        .map_or(IfMatch::Never, IfMatch::Version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_tags_round_trip() {
        let tag = for_resource("project", "abc", 7);
        assert_eq!(tag, "\"project-abc-v7\"");
        assert_eq!(if_match(&tag, "project", "abc"), IfMatch::Version(7));
        assert_eq!(if_match("*", "project", "abc"), IfMatch::Any);
        assert_eq!(if_match(&tag, "project", "abd"), IfMatch::Never);
        assert_eq!(if_match(&tag, "ticket", "abc"), IfMatch::Never);
        assert_eq!(
            if_match(&format!("W/{tag}"), "project", "abc"),
            IfMatch::Never
        );
        assert_eq!(if_match("garbage", "project", "abc"), IfMatch::Never);
        assert_eq!(
            if_match("\"x\", \"project-abc-v3\"", "project", "abc"),
            IfMatch::Version(3)
        );
        assert_eq!(
            if_match("\"project-abc-v0\"", "project", "abc"),
            IfMatch::Never
        );
        assert_eq!(
            if_match("\"project-abc-v3000000000\"", "project", "abc"),
            IfMatch::Never
        );
    }

    #[test]
    fn none_match_is_weak() {
        let tag = "\"abc\"";
        assert!(none_match("\"abc\"", tag));
        assert!(none_match("W/\"abc\"", tag));
        assert!(none_match("\"x\", W/\"abc\"", tag));
        assert!(none_match("*", tag));
        assert!(!none_match("\"abcd\"", tag));
        assert!(!none_match("abc", tag));
        assert_ne!(for_body(b"a"), for_body(b"b"));
    }
}
