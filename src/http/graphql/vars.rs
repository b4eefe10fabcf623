//! Variable coercion as a request error (GraphQL `CoerceVariableValues()`; GraphQL-over-HTTP:
//! "variable coercion failure" is a request error, 400 under graphql-response+json).
//!
//! async-graphql coerces variables lazily, while resolving the fields that use them: a missing
//! or mistyped variable becomes a field error with a path and `data: null` (HTTP 200). This
//! module checks the provided variables against the selected operation's variable
//! definitions before execution instead. The input types come from the running schema's own
//! SDL, parsed once, so the check follows the schema as it grows without naming its types.
//!
//! Rules (GraphQL spec, "Input Coercion"): `Int` is an integer within 32 bits; `Float` any
//! number; `String` a string; `Boolean` a boolean; `ID` a string or an integer; enums one of
//! their value names (as a JSON string); custom scalars a string, except the few listed in
//! [`ANY_VALUE_SCALARS`]; a list accepts a single item as a one-item list; input objects
//! reject unknown fields, require their non-null fields without default and recurse;
//! `@oneOf` input objects take exactly one non-null field. A custom scalar's own parsing (is
//! this string a date?) still happens at execution, as does anything the schema validates.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use async_graphql::parser::types::{
    BaseType, ExecutableDocument, Type, TypeKind, TypeSystemDefinition, VariableDefinition,
};
use async_graphql::parser::{Pos, Positioned};
use async_graphql::{Name, Value, Variables};

use crate::graphql::documents::select_operation;

/// Custom scalars whose input is any JSON value rather than a string.
const ANY_VALUE_SCALARS: &[&str] = &["JSON", "JSONObject", "_Any", "Upload"];

/// Stop after this many problems: enough to fix a request, bounded for hostile ones.
const MAX_ERRORS: usize = 20;

#[derive(Debug)]
enum Scalar {
    Int,
    Float,
    String,
    Boolean,
    Id,
    /// A custom scalar whose input form is a string (`DateTime`, ...).
    Custom,
    /// A custom scalar that takes any value.
    Any,
}

#[derive(Debug)]
struct InputField {
    name: String,
    ty: Type,
    has_default: bool,
}

#[derive(Debug)]
enum InputType {
    Scalar(Scalar),
    Enum(HashSet<String>),
    Object {
        fields: Vec<InputField>,
        one_of: bool,
    },
}

/// The schema's input types by name.
#[derive(Debug)]
pub struct InputTypes {
    types: HashMap<String, InputType>,
}

/// One coercion problem, reported as a GraphQL request error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableError {
    pub message: String,
    pub pos: Pos,
}

impl VariableError {
    pub fn to_json(&self, code: &str) -> serde_json::Value {
        serde_json::json!({
            "message": self.message,
            "locations": [{ "line": self.pos.line, "column": self.pos.column }],
            "extensions": { "code": code },
        })
    }
}

impl InputTypes {
    /// Reads the input types (scalars, enums, input objects) from a schema's SDL.
    pub fn from_sdl(sdl: &str) -> Result<Self, String> {
        let doc = async_graphql::parser::parse_schema(sdl).map_err(|e| e.to_string())?;
        let mut types = HashMap::from([
            ("Int".to_owned(), InputType::Scalar(Scalar::Int)),
            ("Float".to_owned(), InputType::Scalar(Scalar::Float)),
            ("String".to_owned(), InputType::Scalar(Scalar::String)),
            ("Boolean".to_owned(), InputType::Scalar(Scalar::Boolean)),
            ("ID".to_owned(), InputType::Scalar(Scalar::Id)),
        ]);
        for definition in doc.definitions {
            let TypeSystemDefinition::Type(def) = definition else {
                continue;
            };
            let def = def.node;
            let name = def.name.node.to_string();
            let ty = match def.kind {
                TypeKind::Scalar if ANY_VALUE_SCALARS.contains(&name.as_str()) => {
                    InputType::Scalar(Scalar::Any)
                }
                TypeKind::Scalar => InputType::Scalar(Scalar::Custom),
                TypeKind::Enum(e) => InputType::Enum(
                    e.values
                        .iter()
                        .map(|v| v.node.value.node.to_string())
                        .collect(),
                ),
                TypeKind::InputObject(o) => InputType::Object {
                    fields: o
                        .fields
                        .iter()
                        .map(|f| InputField {
                            name: f.node.name.node.to_string(),
                            ty: f.node.ty.node.clone(),
                            has_default: f.node.default_value.is_some(),
                        })
                        .collect(),
                    one_of: def.directives.iter().any(|d| d.node.name.node == "oneOf"),
                },
                _ => continue,
            };
            types.insert(name, ty);
        }
        Ok(Self { types })
    }

    /// Checks `variables` against the variable definitions of the operation that the request
    /// selects. A document that does not parse or select an operation is left to execution,
    /// which reports it.
    pub fn check(
        &self,
        doc: &ExecutableDocument,
        operation_name: Option<&str>,
        variables: &Variables,
    ) -> Vec<VariableError> {
        let Some((_, operation)) = select_operation(doc, operation_name) else {
            return Vec::new();
        };
        let mut errors = Vec::new();
        for definition in &operation.variable_definitions {
            self.check_definition(definition, variables, &mut errors);
            if errors.len() >= MAX_ERRORS {
                errors.truncate(MAX_ERRORS);
                break;
            }
        }
        errors
    }

    fn check_definition(
        &self,
        definition: &Positioned<VariableDefinition>,
        variables: &Variables,
        errors: &mut Vec<VariableError>,
    ) {
        let pos = definition.pos;
        let name = definition.node.name.node.as_str();
        let ty = &definition.node.var_type.node;
        // A type the schema lacks, or an output type, is a validation error: leave it to
        // validation, which says so better.
        if !self.knows(ty) {
            return;
        }
        let push = |errors: &mut Vec<VariableError>, message: String| {
            errors.push(VariableError { message, pos });
        };
        match variables.get(&Name::new(name)) {
            None => {
                if !ty.nullable && definition.node.default_value.is_none() {
                    push(
                        errors,
                        format!("Variable \"${name}\" of required type \"{ty}\" was not provided."),
                    );
                }
            }
            Some(Value::Null) if !ty.nullable => push(
                errors,
                format!("Variable \"${name}\" of non-null type \"{ty}\" must not be null."),
            ),
            Some(value) => {
                let mut problems = Vec::new();
                let mut path = name.to_owned();
                self.coerce(ty, value, &mut path, &mut problems);
                for (at, problem) in problems {
                    let message = if at == name {
                        format!("Variable \"${name}\" got invalid value; {problem}")
                    } else {
                        format!("Variable \"${name}\" got invalid value at \"{at}\"; {problem}")
                    };
                    push(errors, message);
                }
            }
        }
    }

    fn knows(&self, ty: &Type) -> bool {
        match &ty.base {
            BaseType::Named(name) => self.types.contains_key(name.as_str()),
            BaseType::List(inner) => self.knows(inner),
        }
    }

    /// Input coercion of `value` to `ty`; problems are (path, message) pairs.
    fn coerce(&self, ty: &Type, value: &Value, path: &mut String, out: &mut Vec<(String, String)>) {
        if out.len() >= MAX_ERRORS {
            return;
        }
        if matches!(value, Value::Null) {
            if !ty.nullable {
                out.push((
                    path.clone(),
                    format!("Expected non-nullable type \"{ty}\" not to be null."),
                ));
            }
            return;
        }
        match &ty.base {
            BaseType::List(item) => match value {
                Value::List(items) => {
                    for (i, element) in items.iter().enumerate() {
                        let len = path.len();
                        let _ = write!(path, "[{i}]");
                        self.coerce(item, element, path, out);
                        path.truncate(len);
                    }
                }
                // A single value is a list of one (GraphQL spec, "List" input coercion).
                single => self.coerce(item, single, path, out),
            },
            BaseType::Named(name) => self.coerce_named(name, value, path, out),
        }
    }

    fn coerce_named(
        &self,
        name: &str,
        value: &Value,
        path: &mut String,
        out: &mut Vec<(String, String)>,
    ) {
        let Some(ty) = self.types.get(name) else {
            return;
        };
        let expected =
            |what: &str| format!("Expected type \"{name}\" ({what}), found {}.", kind(value));
        match ty {
            InputType::Scalar(scalar) => {
                let ok = match scalar {
                    Scalar::Int => match value {
                        Value::Number(n) => n.as_i64().is_some_and(|v| i32::try_from(v).is_ok()),
                        _ => false,
                    },
                    Scalar::Float => matches!(value, Value::Number(_)),
                    Scalar::String | Scalar::Custom => matches!(value, Value::String(_)),
                    Scalar::Boolean => matches!(value, Value::Boolean(_)),
                    Scalar::Id => match value {
                        Value::String(_) => true,
                        Value::Number(n) => n.is_i64() || n.is_u64(),
                        _ => false,
                    },
                    Scalar::Any => true,
                };
                if !ok {
                    let what = match scalar {
                        Scalar::Int => "a 32-bit integer",
                        Scalar::Float => "a number",
                        Scalar::String | Scalar::Custom => "a string",
                        Scalar::Boolean => "a boolean",
                        Scalar::Id => "a string or an integer",
                        Scalar::Any => "any value",
                    };
                    out.push((path.clone(), expected(what)));
                }
            }
            InputType::Enum(values) => {
                let given = match value {
                    Value::String(s) => Some(s.as_str()),
                    Value::Enum(e) => Some(e.as_str()),
                    _ => None,
                };
                match given {
                    Some(v) if values.contains(v) => {}
                    Some(v) => {
                        let shown: String = v.chars().take(64).collect();
                        out.push((
                            path.clone(),
                            format!("Value \"{shown}\" does not exist in \"{name}\" enum."),
                        ));
                    }
                    None => out.push((path.clone(), expected("an enum value name"))),
                }
            }
            InputType::Object { fields, one_of } => {
                let Value::Object(map) = value else {
                    out.push((path.clone(), expected("an object")));
                    return;
                };
                for key in map.keys() {
                    if !fields.iter().any(|f| f.name == key.as_str()) {
                        let shown: String = key.chars().take(64).collect();
                        out.push((
                            path.clone(),
                            format!("Field \"{shown}\" is not defined by type \"{name}\"."),
                        ));
                    }
                }
                if *one_of {
                    let set = map.values().filter(|v| !matches!(v, Value::Null)).count();
                    if map.len() != 1 || set != 1 {
                        out.push((
                            path.clone(),
                            format!("Exactly one field of \"{name}\" must be given, and not null."),
                        ));
                    }
                }
                for field in fields {
                    match map.get(field.name.as_str()) {
                        None if !field.ty.nullable && !field.has_default => out.push((
                            path.clone(),
                            format!(
                                "Field \"{name}.{}\" of required type \"{}\" was not provided.",
                                field.name, field.ty
                            ),
                        )),
                        None => {}
                        Some(v) => {
                            let len = path.len();
                            path.push('.');
                            path.push_str(&field.name);
                            self.coerce(&field.ty, v, path, out);
                            path.truncate(len);
                        }
                    }
                }
            }
        }
    }
}

/// What a JSON value is, for messages (the value itself may be a secret: never echo it).
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Boolean(_) => "a boolean",
        Value::Binary(_) => "binary data",
        Value::Enum(_) => "an enum value",
        Value::List(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SDL: &str = r#"
        scalar DateTime
        scalar JSON
        enum Role { USER STAFF ADMIN }
        input Login { email: String! password: String! remember: Boolean = false }
        input Filter { roles: [Role!] since: DateTime ids: [ID!] nested: Filter limit: Int score: Float }
        input Pick @oneOf { byId: ID byEmail: String }
        type Query { x(a: Int): Int }
    "#;

    fn check(query: &str, variables: serde_json::Value) -> Vec<String> {
        check_named(query, None, variables)
    }

    fn check_named(query: &str, op: Option<&str>, variables: serde_json::Value) -> Vec<String> {
        let types = InputTypes::from_sdl(SDL).unwrap();
        let doc = async_graphql::parser::parse_query(query).unwrap();
        types
            .check(&doc, op, &Variables::from_json(variables))
            .into_iter()
            .map(|e| e.message)
            .collect()
    }

    fn ok(query: &str, variables: serde_json::Value) {
        let errors = check(query, variables.clone());
        assert!(errors.is_empty(), "{query} with {variables}: {errors:?}");
    }

    fn bad(query: &str, variables: serde_json::Value, needle: &str) {
        let errors = check(query, variables.clone());
        assert!(
            errors.iter().any(|e| e.contains(needle)),
            "{query} with {variables}: expected an error containing {needle:?}, got {errors:?}"
        );
    }

    #[test]
    fn required_variables_must_be_present_and_non_null() {
        let q = "query($i: Login!) { x }";
        bad(q, json!({}), "of required type \"Login!\" was not provided");
        bad(q, json!({ "i": null }), "must not be null");
        ok("query($i: Login) { x }", json!({}));
        ok("query($i: Login) { x }", json!({ "i": null }));
        ok("query($n: Int! = 3) { x }", json!({}));
    }

    #[test]
    fn scalars() {
        ok("query($n: Int) { x }", json!({ "n": -5 }));
        bad(
            "query($n: Int) { x }",
            json!({ "n": 2_147_483_648_i64 }),
            "32-bit",
        );
        bad("query($n: Int) { x }", json!({ "n": 1.5 }), "32-bit");
        bad(
            "query($n: Int) { x }",
            json!({ "n": "5" }),
            "found a string",
        );
        ok("query($f: Float) { x }", json!({ "f": 5 }));
        ok("query($f: Float) { x }", json!({ "f": 5.5 }));
        bad("query($f: Float) { x }", json!({ "f": true }), "Float");
        ok("query($s: String) { x }", json!({ "s": "hi" }));
        bad("query($s: String) { x }", json!({ "s": 1 }), "String");
        ok("query($b: Boolean) { x }", json!({ "b": false }));
        bad(
            "query($b: Boolean) { x }",
            json!({ "b": "false" }),
            "Boolean",
        );
        ok("query($id: ID) { x }", json!({ "id": "abc" }));
        ok("query($id: ID) { x }", json!({ "id": 42 }));
        bad("query($id: ID) { x }", json!({ "id": 4.2 }), "ID");
        ok(
            "query($d: DateTime) { x }",
            json!({ "d": "2024-01-01T00:00:00Z" }),
        );
        bad("query($d: DateTime) { x }", json!({ "d": 5 }), "DateTime");
        ok(
            "query($j: JSON) { x }",
            json!({ "j": { "any": [1, "thing"] } }),
        );
    }

    #[test]
    fn enums() {
        ok("query($r: Role) { x }", json!({ "r": "STAFF" }));
        bad(
            "query($r: Role) { x }",
            json!({ "r": "ROOT" }),
            "does not exist in \"Role\"",
        );
        bad("query($r: Role) { x }", json!({ "r": 1 }), "enum value");
    }

    #[test]
    fn lists_coerce_single_values_and_check_items() {
        ok(
            "query($r: [Role!]) { x }",
            json!({ "r": ["USER", "ADMIN"] }),
        );
        ok("query($r: [Role!]) { x }", json!({ "r": "USER" }));
        bad(
            "query($r: [Role!]) { x }",
            json!({ "r": ["USER", null] }),
            "at \"r[1]\"",
        );
        bad(
            "query($r: [Role!]!) { x }",
            json!({ "r": ["USER", "NOPE"] }),
            "NOPE",
        );
        ok("query($r: [[Int]]) { x }", json!({ "r": [[1], [2, null]] }));
        bad(
            "query($r: [[Int]]) { x }",
            json!({ "r": [[1], ["2"]] }),
            "at \"r[1][0]\"",
        );
    }

    #[test]
    fn input_objects() {
        let q = "mutation($i: Login!) { x }";
        ok(q, json!({ "i": { "email": "a@b.c", "password": "pw" } }));
        bad(q, json!({ "i": 5 }), "found an integer");
        bad(
            q,
            json!({ "i": { "email": "a@b.c" } }),
            "\"Login.password\" of required type",
        );
        bad(
            q,
            json!({ "i": { "email": "a", "password": "p", "nope": 1 } }),
            "Field \"nope\" is not defined",
        );
        bad(
            q,
            json!({ "i": { "email": null, "password": "p" } }),
            "at \"i.email\"",
        );
        bad(
            q,
            json!({ "i": { "email": 5, "password": "p" } }),
            "at \"i.email\"",
        );
        let f = "query($f: Filter) { x }";
        ok(
            f,
            json!({ "f": { "nested": { "roles": "ADMIN", "limit": 3 } } }),
        );
        bad(
            f,
            json!({ "f": { "nested": { "nested": { "roles": ["X"] } } } }),
            "at \"f.nested.nested.roles[0]\"",
        );
        bad(f, json!({ "f": { "since": 5 } }), "DateTime");
    }

    #[test]
    fn values_are_not_echoed() {
        let errors = check(
            "mutation($i: Login!) { x }",
            json!({ "i": { "email": "a@b.c", "password": 12345678 } }),
        );
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(!errors[0].contains("12345678"), "{errors:?}");
    }

    #[test]
    fn one_of_input_objects_take_exactly_one_field() {
        let q = "query($p: Pick!) { x }";
        ok(q, json!({ "p": { "byId": "1" } }));
        bad(q, json!({ "p": {} }), "Exactly one field");
        bad(
            q,
            json!({ "p": { "byId": "1", "byEmail": "e" } }),
            "Exactly one field",
        );
        bad(q, json!({ "p": { "byId": null } }), "Exactly one field");
    }

    #[test]
    fn only_the_selected_operation_counts_and_unknown_types_are_left_to_validation() {
        let doc = "query A($n: Int!) { x } query B { x }";
        assert!(!check_named(doc, Some("A"), json!({})).is_empty());
        assert!(check_named(doc, Some("B"), json!({})).is_empty());
        assert!(
            check_named(doc, None, json!({})).is_empty(),
            "ambiguous: execution reports it"
        );
        ok("query($n: Nope!) { x }", json!({}));
        ok("query($n: Query) { x }", json!({ "n": 5 }));
    }

    #[test]
    fn reads_the_real_schema() {
        let types = InputTypes::from_sdl(&crate::graphql::sdl()).unwrap();
        assert!(types.types.contains_key("String"));
        assert!(
            types
                .types
                .values()
                .any(|t| matches!(t, InputType::Object { .. })),
            "the schema has input objects"
        );
    }
}
