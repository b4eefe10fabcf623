//! Who is making the request. Taken from `Authorization: Bearer`; anonymous when absent.

use http::HeaderMap;
use uuid::Uuid;

use crate::entity::users::Role;
use crate::error::Error;

use super::JwtKeys;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    Anonymous,
    User {
        id: Uuid,
        role: Role,
        session_id: Uuid,
    },
}

impl Principal {
    /// Reads the bearer token, if any. A present but invalid or expired token is an error,
    /// never silently anonymous: a client with a broken token should learn it at once.
    pub fn from_headers(headers: &HeaderMap, keys: &JwtKeys) -> Result<Self, Error> {
        let Some(value) = headers.get(http::header::AUTHORIZATION) else {
            return Ok(Self::Anonymous);
        };
        let value = value.to_str().map_err(|_| {
            Error::Unauthenticated("the Authorization header is not valid text".into())
        })?;
        let token = value
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|token| !token.is_empty())
            .ok_or_else(|| {
                Error::Unauthenticated("expected `Authorization: Bearer <token>`".into())
            })?;
        let claims = keys.verify(token)?;
        Ok(Self::User {
            id: claims.sub,
            role: claims.role,
            session_id: claims.sid,
        })
    }

    pub fn user_id(&self) -> Option<Uuid> {
        match self {
            Self::User { id, .. } => Some(*id),
            Self::Anonymous => None,
        }
    }

    pub fn role(&self) -> Option<Role> {
        match self {
            Self::User { role, .. } => Some(*role),
            Self::Anonymous => None,
        }
    }

    pub fn require_user(&self) -> Result<Uuid, Error> {
        self.user_id()
            .ok_or_else(|| Error::Unauthenticated("sign in to do this".into()))
    }

    pub fn is_staff(&self) -> bool {
        matches!(self.role(), Some(Role::Staff | Role::Admin))
    }

    pub fn is_admin(&self) -> bool {
        self.role() == Some(Role::Admin)
    }
}
