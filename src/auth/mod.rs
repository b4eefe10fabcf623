//! Authentication: password hashing, access tokens and the request's [`Principal`].

pub mod jwt;
pub mod password;
pub mod principal;

pub use jwt::JwtKeys;
pub use principal::Principal;
