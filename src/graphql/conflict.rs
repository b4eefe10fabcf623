//! `extensions.current` of `PRECONDITION_FAILED`: the winning row as the GraphQL type presents
//! its own fields (the same names and scalar encodings a query selecting them returns), with
//! `__typename`, so the REST shim reshapes it exactly as it reshapes a GET.

use async_graphql::{InputType, Value, value};

use super::types::{CommunityPost, Project, SupportTicket};
use crate::domain::versioned::Snapshot;

pub fn current(snapshot: &Snapshot) -> Value {
    let id = |id: &uuid::Uuid| Value::String(id.to_string());
    let opt = |maybe: Option<uuid::Uuid>| maybe.as_ref().map_or(Value::Null, id);
    match snapshot {
        Snapshot::Project(m) => {
            let p = Project::from(m.clone());
            value!({
                "__typename": "Project",
                "id": id(&m.id),
                "ownerId": id(&m.owner_id),
                "name": p.name,
                "description": p.description,
                "visibility": p.visibility.to_value(),
                "createdAt": p.created_at.to_value(),
                "updatedAt": p.updated_at.to_value(),
                "version": p.version,
            })
        }
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
        Snapshot::Post(m) => {
            let c = CommunityPost::from(m.clone());
            value!({
                "__typename": "CommunityPost",
                "id": id(&m.id),
                "authorId": id(&m.author_id),
                "projectId": opt(m.project_id),
                "title": c.title,
                "body": c.body,
                "tags": c.tags,
                "createdAt": c.created_at.to_value(),
                "updatedAt": c.updated_at.to_value(),
                "version": c.version,
            })
        }
    }
}
