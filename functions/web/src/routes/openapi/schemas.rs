//! The schemas of the OpenAPI document: bodies, answers and the error.

use serde_json::{Map, Value, json};
use taquilla_core::domain::Permission;

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn page_of(item: &str) -> Value {
    json!({
        "type": "object",
        "required": ["items"],
        "properties": {
            "items": {"type": "array", "items": r(item)},
            "cursor": {"type": "string", "nullable": true, "description": "Present exactly when more items follow"},
        },
    })
}

fn object(required: &[&str], properties: Value) -> Value {
    json!({"type": "object", "required": required, "properties": properties})
}

const ID: &str = "32 lower-case hex digits";

fn body_schema() -> Value {
    json!({
        "description": "Plain text as a string or {\"text\": ...}; HTML (sanitised) as {\"html\": ...}",
        "oneOf": [
            {"type": "string"},
            object(&["text"], json!({"text": {"type": "string"}})),
            object(&["html"], json!({"html": {"type": "string"}})),
        ],
    })
}

fn files() -> Value {
    json!({"type": "array", "maxItems": 20, "items": r("File")})
}

/// The ticket API's own schemas.
fn ticket_schemas() -> Vec<(&'static str, Value)> {
    let int = json!({"type": "integer"});
    let opt_int = json!({"type": "integer", "nullable": true});
    let string = json!({"type": "string"});
    vec![
        (
            "Error",
            object(
                &["error"],
                json!({"error": object(&["code", "message"], json!({
                    "code": {"type": "string", "description": "Stable snake_case code, e.g. invalid_field, invalid_form, conflict, ticket_locked, forbidden, not_found, instance_not_found, invalid_token, invalid_body, invalid_query"},
                    "message": string,
                    "holder": {"type": "string", "description": "ticket_locked only: who holds the lock"},
                    "until": {"type": "integer", "description": "ticket_locked only: when the lock ends, epoch ms"},
                    "fields": {"type": "array", "description": "invalid_form only (422): each field that is wrong and why", "items": object(&["field", "code", "message"], json!({
                        "field": {"type": "string", "description": "The field's variable name"},
                        "code": {"type": "string", "description": "required, unknown_field, not_editable, not_an_input, too_short, too_long, pattern, not_a_number, out_of_range, not_an_email, not_a_phone, not_a_date, not_a_date_time, unknown_choice, not_a_checkbox, unknown_file"},
                        "message": string,
                    }))},
                }))}),
            ),
        ),
        (
            "Ticket",
            object(
                &[
                    "id",
                    "number",
                    "subject",
                    "user",
                    "source",
                    "department",
                    "priority",
                    "status",
                    "state",
                    "version",
                ],
                json!({
                    "id": {"type": "string", "description": ID},
                    "number": string, "subject": string,
                    "user": {"type": "string", "description": "The user's id"},
                    "collaborators": {"type": "array", "items": object(&["user", "kind"], json!({"user": string, "kind": {"type": "string", "enum": ["cc", "bcc"]}}))},
                    "source": {"type": "string", "enum": ["web", "email", "api", "phone", "other"]},
                    "topic": opt_int, "department": int, "priority": int, "status": int,
                    "state": {"type": "string", "enum": ["open", "closed", "archived", "deleted"]},
                    "assignee": opt_int, "team": opt_int, "sla": opt_int,
                    "due_at": opt_int, "overdue": {"type": "boolean"}, "answered": {"type": "boolean"},
                    "fields": {"type": "object", "additionalProperties": string},
                    "created_at": int, "updated_at": int,
                    "last_message_at": opt_int, "last_response_at": opt_int, "closed_at": opt_int, "reopened_at": opt_int,
                    "merged_into": {"type": "string", "nullable": true, "description": "The id of the ticket this one was merged into; messages, responses and notes sent to this one land there"},
                    "merged_into_number": {"type": "string", "description": "Reading a merged ticket: the number of the ticket it was merged into, when the caller may see it"},
                    "redirected_from": {"type": "string", "description": "Answering a message, response or note: the number it was addressed to, when it landed in the ticket that one was merged into (this ticket)"},
                    "links": {"type": "array", "items": string},
                    "version": {"type": "integer", "description": "Send it back with a change; a stale one is 409 conflict"},
                }),
            ),
        ),
        ("TicketPage", page_of("Ticket")),
        (
            "Entry",
            object(
                &["id", "kind", "author"],
                json!({
                    "id": string,
                    "kind": {"type": "string", "enum": ["message", "response", "note", "event"]},
                    "author": object(&["kind"], json!({"kind": {"type": "string", "enum": ["user", "agent", "system"]}, "id": {}})),
                    "body_html": string, "body_text": string,
                    "attachments": {"type": "array", "items": object(&["blob", "name", "content_type", "size"], json!({"blob": string, "name": string, "content_type": string, "size": int}))},
                    "event": {"type": "string", "nullable": true},
                    "data": {"type": "object", "additionalProperties": string},
                    "created_at": int,
                }),
            ),
        ),
        ("EntryPage", page_of("Entry")),
        (
            "File",
            object(
                &["name", "content_type", "data_base64"],
                json!({"name": string, "content_type": string, "data_base64": {"type": "string", "format": "byte"}}),
            ),
        ),
        (
            "OpenTicket",
            object(
                &["email", "subject", "body"],
                json!({
                    "name": string, "email": {"type": "string", "format": "email"}, "phone": string,
                    "subject": {"type": "string", "minLength": 1, "maxLength": 255},
                    "body": body_schema(),
                    "topic": int, "department": int, "priority": int,
                    "source": {"type": "string", "enum": ["web", "email", "api", "phone", "other"], "description": "Default: other for an agent, api for an API key"},
                    "fields": {"type": "object", "description": "Answers to the topic's forms by variable name (a multiple choice as an array); wrong ones are 422 invalid_form", "additionalProperties": {"oneOf": [string, {"type": "number"}, {"type": "boolean"}, {"type": "array", "items": string}]}},
                    "collaborators": {"type": "array", "items": string},
                    "attachments": files(),
                    "autorespond": {"type": "boolean", "default": true},
                    "alert": {"type": "boolean", "default": true},
                }),
            ),
        ),
        (
            "NewResponse",
            json!({
                "type": "object",
                "description": "A body, a canned response, or both (the body first)",
                "properties": {
                    "body": body_schema(), "status": int, "attachments": files(),
                    "canned": {"type": "integer", "description": "A canned response expanded for the ticket; its files are attached"},
                },
            }),
        ),
        (
            "NewEntry",
            object(
                &["body"],
                json!({"body": body_schema(), "attachments": files()}),
            ),
        ),
        (
            "TicketChanges",
            object(
                &["version"],
                json!({
                    "version": int, "status": int, "priority": int, "topic": opt_int,
                    "due_at": {"type": "integer", "nullable": true, "description": "Epoch ms"},
                    "department": {"type": "integer", "description": "Transfers the ticket"},
                    "sla": {"type": "integer", "nullable": true, "description": "Gives the ticket this SLA plan (null: none) and recomputes its due times; needs ticket.edit; an unknown plan is 400 invalid_field with rule sla_unknown_plan"},
                    "assignee": {"nullable": true, "description": "null releases", "oneOf": [
                        object(&["agent"], json!({"agent": int})),
                        object(&["team"], json!({"team": int})),
                    ]},
                }),
            ),
        ),
        ("VersionBody", object(&[], json!({"version": int}))),
        (
            "LockBody",
            object(
                &[],
                json!({"seconds": {"type": "integer", "minimum": 1, "maximum": 3600, "default": 180}}),
            ),
        ),
        (
            "Lock",
            object(
                &["ticket", "holder", "holder_name", "until_ms"],
                json!({"ticket": string, "holder": int, "holder_name": string, "until_ms": int}),
            ),
        ),
        (
            "CollaboratorsBody",
            object(
                &["text"],
                json!({
                    "text": {"type": "string", "description": "Addresses separated by commas, semicolons or new lines; Name <addr> accepted"},
                    "kind": {"type": "string", "enum": ["cc", "bcc"], "default": "cc"},
                    "version": int,
                }),
            ),
        ),
        (
            "CollaboratorReport",
            object(
                &["added", "already", "invalid"],
                json!({
                    "added": {"type": "array", "items": string},
                    "already": {"type": "array", "items": string},
                    "invalid": {"type": "array", "items": {"type": "array", "items": string, "minItems": 2, "maxItems": 2}},
                }),
            ),
        ),
        (
            "MergeBody",
            object(
                &["into"],
                json!({"into": {"type": "string", "description": "The target's number"}, "version": int}),
            ),
        ),
        (
            "LinkBody",
            object(&["number"], json!({"number": string, "version": int})),
        ),
        (
            "User",
            object(
                &["id", "name", "emails"],
                json!({
                    "id": string, "name": string, "emails": {"type": "array", "items": string},
                    "organisation": opt_int,
                    "language": {"type": "string", "enum": ["ca", "es", "en"], "nullable": true},
                    "phone": {"type": "string", "nullable": true}, "created_at": int,
                }),
            ),
        ),
        ("UserPage", page_of("User")),
        (
            "NewUser",
            object(&["email"], json!({"email": string, "name": string})),
        ),
        (
            "UserChanges",
            object(
                &[],
                json!({
                    "name": string, "phone": {"type": "string", "nullable": true},
                    "language": {"type": "string", "enum": ["ca", "es", "en"], "nullable": true},
                    "organisation": opt_int,
                }),
            ),
        ),
        (
            "Organisation",
            object(
                &["id", "name"],
                json!({
                    "id": int, "name": string,
                    "domains": {"type": "array", "items": string},
                    "managers": {"type": "array", "items": string},
                    "default_collaborators": {"type": "array", "items": string},
                }),
            ),
        ),
        ("OrganisationPage", page_of("Organisation")),
        (
            "NewOrganisation",
            object(
                &["name"],
                json!({
                    "name": string, "domains": {"type": "array", "items": string},
                    "managers": {"type": "array", "items": string},
                    "default_collaborators": {"type": "array", "items": string},
                }),
            ),
        ),
        (
            "OrganisationChanges",
            object(
                &[],
                json!({
                    "name": string, "domains": {"type": "array", "items": string},
                    "managers": {"type": "array", "items": string},
                    "default_collaborators": {"type": "array", "items": string},
                }),
            ),
        ),
    ]
}

/// The create bodies of the named configuration kinds: the record's fields
/// without its id (the service assigns it).
fn new_object_schemas() -> Vec<(&'static str, Value)> {
    let string = json!({"type": "string"});
    let opt_int = json!({"type": "integer", "nullable": true});
    let opt_string = json!({"type": "string", "nullable": true});
    let ids = json!({"type": "array", "items": {"type": "integer"}});
    let permissions: Vec<&str> = Permission::ALL.iter().map(|p| p.as_str()).collect();
    let name = json!({"type": "string", "minLength": 1, "maxLength": 120, "description": "Unique in the kind, ignoring case and runs of white space"});
    vec![
        (
            "NewDepartment",
            object(
                &["name"],
                json!({
                    "name": name, "email": opt_string, "parent": opt_int,
                    "manager": opt_int, "sla": opt_int,
                    "members_only": {"type": "boolean", "default": false},
                    "assignment": {"type": "string", "enum": ["manual", "round_robin"], "default": "manual"},
                }),
            ),
        ),
        (
            "NewHelpTopic",
            object(
                &["name", "department"],
                json!({
                    "name": name, "department": {"type": "integer"},
                    "public": {"type": "boolean", "default": true},
                    "parent": opt_int, "priority": opt_int, "sla": opt_int,
                    "auto_assign": {
                        "type": "object", "nullable": true, "required": ["kind", "id"],
                        "properties": {"kind": {"type": "string", "enum": ["agent", "team"]}, "id": {"type": "integer"}},
                    },
                    "auto_response": {"type": "boolean", "default": true},
                    "number_format": opt_string,
                    "forms": ids,
                    "default_collaborators": {"type": "array", "items": string},
                }),
            ),
        ),
        (
            "NewTeam",
            object(
                &["name"],
                json!({"name": name, "lead": opt_int, "members": ids}),
            ),
        ),
        (
            "NewRole",
            object(
                &["name"],
                json!({"name": name, "permissions": {"type": "array", "items": {"type": "string", "enum": permissions}}}),
            ),
        ),
        (
            "NewStatus",
            object(
                &["name", "state"],
                json!({"name": name, "state": {"type": "string", "enum": ["open", "closed", "archived", "deleted"]}}),
            ),
        ),
        (
            "NewPriority",
            object(
                &["name", "urgency"],
                json!({"name": name, "urgency": {"type": "integer", "minimum": 1, "maximum": 10, "description": "1 is the most urgent"}}),
            ),
        ),
    ]
}

/// Business-hours schedules and SLA plans: records, lists and create bodies.
fn sla_schemas() -> Vec<(&'static str, Value)> {
    let string = json!({"type": "string"});
    let int = json!({"type": "integer"});
    let name = json!({"type": "string", "minLength": 1, "maxLength": 120, "description": "Unique in the kind, ignoring case and runs of white space"});
    let time = json!({"type": "string", "pattern": "^([01]?[0-9]|2[0-4]):[0-5][0-9]$", "description": "HH:MM wall time; 24:00 only as an end"});
    let span = object(&["from", "to"], json!({"from": time, "to": time}));
    let schedule = json!({
        "name": name,
        "timezone": {"type": "string", "description": "IANA time zone, e.g. Europe/Madrid"},
        "always_open": {"type": "boolean", "default": false, "description": "24x7 (holidays still close it); takes no hours"},
        "hours": {"type": "array", "description": "Weekly opening hours; intervals of a day must not overlap", "items": object(&["days", "from", "to"], json!({
            "days": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}},
            "from": time, "to": time,
        }))},
        "holidays": {"type": "array", "items": object(&["date"], json!({
            "date": {"type": "string", "format": "date"},
            "until": {"type": "string", "format": "date", "description": "Last date of a closure of several days (inclusive); absent: the date alone"},
            "name": string,
            "hours": {"type": "array", "nullable": true, "items": span, "description": "Open only these hours that day (each day of a closure); absent closes it"},
        }))},
    });
    let minutes = json!({"type": "integer", "nullable": true, "minimum": 1, "maximum": taquilla_core::domain::sla::MAX_TARGET_MINUTES, "description": "Business minutes; null: no such target"});
    let plan = json!({
        "name": name,
        "first_response_minutes": minutes, "next_response_minutes": minutes, "resolution_minutes": minutes,
        "schedule": {"type": "integer", "nullable": true, "description": "The schedule counted in; null is 24x7"},
        "pause_statuses": {"type": "array", "items": int, "description": "Open statuses that stop the clocks"},
        "warning_percent": {"type": "integer", "nullable": true, "minimum": 1, "maximum": 99, "default": 80},
        "transient": {"type": "boolean", "default": false, "description": "Replaced when the ticket's topic or department changes"},
        "overdue_alerts": {"type": "boolean", "default": true},
    });
    let record = |fields: &Value| {
        let mut fields = fields.clone();
        fields["id"] = int.clone();
        fields["version"] = int.clone();
        fields
    };
    let list = |item: &str| {
        object(
            &["items"],
            json!({"items": {"type": "array", "items": r(item)}}),
        )
    };
    vec![
        (
            "NewSchedule",
            object(&["name", "timezone"], schedule.clone()),
        ),
        (
            "Schedule",
            object(&["id", "name", "timezone", "version"], record(&schedule)),
        ),
        ("ScheduleList", list("Schedule")),
        ("NewSlaPlan", object(&["name"], plan.clone())),
        ("SlaPlan", object(&["id", "name", "version"], record(&plan))),
        ("SlaPlanList", list("SlaPlan")),
    ]
}

/// Every schema: the ticket API's, and the configuration kinds' (`kinds`:
/// path segment and schema name), whose records are described loosely as
/// objects with an id and a version, and whose create bodies in full.
pub fn schemas(kinds: &[(&str, &str)]) -> Value {
    let mut out: Map<String, Value> = ticket_schemas()
        .into_iter()
        .chain(new_object_schemas())
        .chain(sla_schemas())
        .map(|(name, schema)| (name.to_owned(), schema))
        .collect();
    let record = |what: &str| {
        json!({
            "type": "object",
            "description": format!("{what}, with its version"),
            "properties": {"id": {"type": "integer"}, "version": {"type": "integer"}},
            "additionalProperties": true,
        })
    };
    for &(_, name) in kinds.iter().chain(&[("", "Instance"), ("", "Agent")]) {
        out.insert(name.to_owned(), record(name));
        out.insert(
            format!("{name}List"),
            object(
                &["items"],
                json!({"items": {"type": "array", "items": r(name)}}),
            ),
        );
    }
    out.insert(
        "Changes".into(),
        json!({
            "type": "object",
            "required": ["version"],
            "description": "The fields to change and the version they were made from",
            "properties": {"version": {"type": "integer"}},
            "additionalProperties": true,
        }),
    );
    out.insert(
        "NewAgent".into(),
        object(
            &["name", "email", "department", "role"],
            json!({
                "name": {"type": "string"}, "email": {"type": "string"},
                "department": {"type": "integer"}, "role": {"type": "integer"},
                "admin": {"type": "boolean"},
                "access": {"type": "object", "additionalProperties": {"type": "integer"}},
            }),
        ),
    );
    out.insert(
        "AgentWithPassword".into(),
        object(
            &["agent", "password"],
            json!({"agent": r("Agent"), "password": {"type": "string"}}),
        ),
    );
    out.insert(
        "Suppression".into(),
        object(
            &["address", "reason", "detail", "feedback_id", "at"],
            json!({
                "address": {"type": "string", "description": "In lower case"},
                "reason": {"type": "string", "enum": ["bounce", "complaint"]},
                "detail": {"type": "string", "description": "What the provider said (bounce subtype, status, diagnostic; complaint type)"},
                "feedback_id": {"type": "string"},
                "ticket": {"type": "string", "nullable": true, "description": "The number of the ticket whose mail bounced"},
                "at": {"type": "integer", "description": "Epoch milliseconds"},
            }),
        ),
    );
    out.insert("SuppressionList".into(), page_of("Suppression"));
    Value::Object(out)
}
