//! Business rules, validation and authorization. Resolvers and the REST shim call into here;
//! nothing else touches the database or decides who may do what.

pub mod accounts;
pub mod audit;
pub mod pagination;
pub mod patch;
pub mod projects;
pub mod text;
pub mod versioned;
