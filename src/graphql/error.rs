//! The one mapping from domain errors to GraphQL errors (`extensions.code`, field paths).

use async_graphql::ErrorExtensions;

use crate::error::Error;

impl ErrorExtensions for Error {
    fn extend(&self) -> async_graphql::Error {
        self.log();
        async_graphql::Error::new(self.public_message()).extend_with(|_, ext| {
            ext.set("code", self.code().as_str());
            if let Error::Validation(fields) = self {
                let fields: Vec<async_graphql::Value> = fields
                    .iter()
                    .map(|f| {
                        let mut path = vec!["input".to_owned()];
                        path.extend(f.loc.iter().map(|l| to_camel(l)));
                        async_graphql::value!({ "path": path, "message": f.msg.clone(), "type": f.kind })
                    })
                    .collect();
                ext.set("fields", fields);
            }
            if let Some(retry) = self.retry_after() {
                ext.set("retryAfter", retry.as_secs());
            }
            if let Some([(_, policy), (_, limit)]) = self.rate_limit_headers() {
                // The REST shim turns these back into its 429's headers.
                ext.set("rateLimitPolicy", policy);
                ext.set("rateLimit", limit);
            }
            if let Some(challenge) = self.challenge() {
                ext.set("totpRequired", true);
                ext.set("challenge", challenge);
            }
            if let Error::PreconditionFailed {
                current: Some(current),
            } = self
            {
                ext.set("currentVersion", current.version());
                ext.set("current", super::conflict::current(current));
            }
        })
    }
}

/// Domain field names are snake_case; GraphQL inputs are camelCase.
fn to_camel(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut upper = false;
    for c in s.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `domain_call().await.gql()?` in resolvers: keeps the error code that `?` alone would drop
/// (async-graphql's blanket `From<Display>` would turn every error into a bare message).
pub trait IntoGql<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> IntoGql<T> for Result<T, Error> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|e| e.extend())
    }
}

/// Single-item queries: `NotFound` (which includes "not yours to read") answers `null`.
pub trait Found<T> {
    fn found<U: From<T>>(self) -> async_graphql::Result<Option<U>>;
}

impl<T> Found<T> for Result<T, Error> {
    fn found<U: From<T>>(self) -> async_graphql::Result<Option<U>> {
        match self {
            Ok(value) => Ok(Some(value.into())),
            Err(Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e.extend()),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn camel_cases_field_names() {
        assert_eq!(super::to_camel("display_name"), "displayName");
        assert_eq!(super::to_camel("email"), "email");
    }
}
