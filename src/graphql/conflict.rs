//! `extensions.current` of `PRECONDITION_FAILED`: the winning row as the GraphQL type presents
//! its own fields (the same names and scalar encodings a query selecting them returns), with
//! `__typename`, so the REST shim reshapes it exactly as it reshapes a GET.

use async_graphql::{InputType, Value, value};

use super::types::{SupportTicket, Visibility};
use crate::domain::versioned::Snapshot;

pub fn current(snapshot: &Snapshot) -> Value {
    let id = |id: &uuid::Uuid| Value::String(id.to_string());
    let opt = |maybe: Option<uuid::Uuid>| maybe.as_ref().map_or(Value::Null, id);
    match snapshot {
        Snapshot::Project(m) => value!({
            "__typename": "Project",
            "id": id(&m.id),
            "ownerId": id(&m.owner_id),
            "name": m.name.clone(),
            "description": m.description.clone(),
            "visibility": Visibility::from(m.visibility).to_value(),
            "createdAt": m.created_at.to_value(),
            "updatedAt": m.updated_at.to_value(),
            "version": m.version,
        }),
        Snapshot::Ticket(m) => {
            let t = SupportTicket::from(m.clone());
            value!({
                "__typename": "SupportTicket",
                "id": id(&m.id),
                "requesterId": id(&m.requester_id),
                "projectId": opt(m.project_id),
                "subject": t.subject,
                "body": t.body,
                "status": t.status.to_value(),
                "priority": t.priority.to_value(),
                "assigneeId": opt(m.assignee_id),
                "createdAt": t.created_at.to_value(),
                "updatedAt": t.updated_at.to_value(),
                "version": t.version,
            })
        }
        Snapshot::Post(m) => value!({
            "__typename": "CommunityPost",
            "id": id(&m.id),
            "authorId": id(&m.author_id),
            "projectId": opt(m.project_id),
            "title": m.title.clone(),
            "body": m.body.clone(),
            "tags": crate::domain::posts::tags_of(m),
            "createdAt": m.created_at.to_value(),
            "updatedAt": m.updated_at.to_value(),
            "version": m.version,
        }),
    }
}
