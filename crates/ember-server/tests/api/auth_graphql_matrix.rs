//! The GraphQL role matrix: every root query and mutation field of the schema (read from the
//! schema itself by introspection, so a new field cannot be missed) × every kind of caller, sent
//! with arguments generated from the field's signature.

use std::collections::HashMap;

use axum::http::{Method, StatusCode};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ember_server::app::Access;
use ember_server::graphql_access::{MUTATIONS, QUERIES};
use ember_service::AuthSettings;
use serde_json::{json, Value};

use crate::auth::{principals, send, As};
use crate::common::{test_app_with_auth, TestApp};

const TYPE_REF: &str = "fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

/// The schema's types by name, and its root query and mutation fields.
struct Introspected {
    types: HashMap<String, Value>,
    queries: Vec<Value>,
    mutations: Vec<Value>,
}

async fn introspect(app: &TestApp, who: &As) -> Introspected {
    let query = format!(
        "{{ __schema {{ types {{ name kind enumValues {{ name }} inputFields {{ name defaultValue type {{ ...TypeRef }} }} }} \
         queryType {{ fields {{ name args {{ name defaultValue type {{ ...TypeRef }} }} type {{ ...TypeRef }} }} }} \
         mutationType {{ fields {{ name args {{ name defaultValue type {{ ...TypeRef }} }} type {{ ...TypeRef }} }} }} }} }} {TYPE_REF}"
    );
    let answer = send(app, Method::POST, "/graphql", who, Some(&json!({"query": query}))).await.json();
    let schema = &answer["data"]["__schema"];
    let types = schema["types"].as_array().unwrap().iter().map(|t| (t["name"].as_str().unwrap().to_string(), t.clone())).collect();
    let fields = |root: &str| schema[root]["fields"].as_array().unwrap().clone();
    Introspected { types, queries: fields("queryType"), mutations: fields("mutationType") }
}

/// The named type under any NON_NULL and LIST wrappers.
fn named(type_ref: &Value) -> &Value {
    if type_ref["ofType"].is_object() {
        named(&type_ref["ofType"])
    } else {
        type_ref
    }
}

impl Introspected {
    /// A literal of the type of the input `name`: required arguments and input fields only, one
    /// list item, and an id of the type the name says (`traceId`: a Trace's) that names nothing.
    fn literal(&self, type_ref: &Value, name: &str) -> String {
        match type_ref["kind"].as_str().unwrap() {
            "NON_NULL" => self.literal(&type_ref["ofType"], name),
            "LIST" => format!("[{}]", self.literal(&type_ref["ofType"], name)),
            "ENUM" => {
                let name = type_ref["name"].as_str().unwrap();
                self.types[name]["enumValues"][0]["name"].as_str().unwrap().to_string()
            }
            "INPUT_OBJECT" => {
                let name = type_ref["name"].as_str().unwrap();
                format!("{{{}}}", self.required(&self.types[name]["inputFields"]))
            }
            _ => match type_ref["name"].as_str().unwrap() {
                "Int" => "1".into(),
                "Float" => "1.5".into(),
                "Boolean" => "false".into(),
                "JSON" => "{}".into(),
                "ID" => {
                    let stem = name.trim_end_matches('s').trim_end_matches("Id");
                    let global_type =
                        if stem == name || stem.is_empty() { "Span".to_string() } else { stem[..1].to_uppercase() + &stem[1..] };
                    format!("\"{}\"", STANDARD.encode(format!("{global_type}:1000000")))
                }
                _ => "\"x\"".into(),
            },
        }
    }

    /// `name: value` for each required argument or input field without a default.
    fn required(&self, inputs: &Value) -> String {
        let required =
            inputs.as_array().unwrap().iter().filter(|input| input["type"]["kind"] == "NON_NULL" && input["defaultValue"].is_null());
        required
            .map(|input| {
                let name = input["name"].as_str().unwrap();
                format!("{name}: {}", self.literal(&input["type"], name))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// An operation selecting only `field`.
    fn operation(&self, kind: &str, field: &Value) -> String {
        let arguments = self.required(&field["args"]);
        let arguments = if arguments.is_empty() { String::new() } else { format!("({arguments})") };
        let returned = named(&field["type"]);
        let selection = match returned["kind"].as_str().unwrap() {
            "OBJECT" | "INTERFACE" | "UNION" => " { __typename }",
            _ => "",
        };
        format!("{kind} {{ {}{arguments}{selection} }}", field["name"].as_str().unwrap())
    }
}

const VIEWERS_CANNOT: &str = "Viewers cannot perform this action.";
const ADMINS_ONLY: &str = "Only admin can perform this action";

/// Whether an answer refused the caller for who they are: a 401, or the role refusals. (A
/// service may still refuse a request for what it asks, e.g. the system user changing itself.)
fn refusal(status: StatusCode, answer: &Value) -> Option<String> {
    if status == StatusCode::UNAUTHORIZED {
        return Some("401".into());
    }
    let errors = answer["errors"].as_array()?;
    errors
        .iter()
        .filter_map(|error| error["message"].as_str())
        .find(|message| [VIEWERS_CANNOT, ADMINS_ONLY].contains(message))
        .map(str::to_string)
}

#[tokio::test]
async fn every_graphql_root_field_answers_every_kind_of_caller_as_its_access_says() {
    let app = test_app_with_auth(AuthSettings::default()).await;
    let who = principals(&app).await;
    let schema = introspect(&app, &who.admin).await;

    // The access table names exactly the schema's root fields.
    let names = |fields: &[Value]| {
        let mut names: Vec<String> = fields.iter().map(|field| field["name"].as_str().unwrap().to_string()).collect();
        names.sort();
        names
    };
    let table_names = |table: &[(&str, Access)]| {
        let mut names: Vec<String> = table.iter().map(|(name, _)| name.to_string()).collect();
        names.sort();
        names
    };
    assert_eq!(names(&schema.queries), table_names(QUERIES), "every query field has its access");
    assert_eq!(names(&schema.mutations), table_names(MUTATIONS), "every mutation field has its access");

    let mut checked = 0;
    for (kind, fields, table) in [("query", &schema.queries, QUERIES), ("mutation", &schema.mutations, MUTATIONS)] {
        for field in fields {
            let name = field["name"].as_str().unwrap();
            let access = table.iter().find(|(entry, _)| *entry == name).unwrap().1;
            let body = json!({"query": schema.operation(kind, field)});
            let context = format!("{kind} {name} ({})", body["query"]);
            for (caller, principal, message) in [
                ("anonymous", &who.anonymous, "Invalid token"),
                ("bad token", &who.bad_token, "Invalid token"),
                ("expired", &who.expired, "Expired token"),
                ("revoked", &who.revoked, "Invalid token"),
            ] {
                let response = send(&app, Method::POST, "/graphql", principal, Some(&body)).await;
                assert_eq!((response.status, response.text()), (StatusCode::UNAUTHORIZED, message.to_string()), "{context} as {caller}");
            }
            for (caller, principal, allowed) in who.by_role(access) {
                let response = send(&app, Method::POST, "/graphql", principal, Some(&body)).await;
                let (status, answer) = (response.status, response.json());
                assert_eq!(status, StatusCode::OK, "{context} as {caller}: {answer}");
                let refused = refusal(status, &answer);
                if allowed {
                    assert_eq!(refused, None, "{context} as {caller}: {answer}");
                } else {
                    let message =
                        if access == Access::Write { "Viewers cannot perform this action." } else { "Only admin can perform this action" };
                    assert_eq!(
                        answer,
                        json!({"data": null, "errors": [{"message": message, "extensions": {"code": "FORBIDDEN"}}]}),
                        "{context} as {caller}"
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 41, "{checked} root fields checked");
}

#[tokio::test]
async fn a_refused_field_refuses_the_whole_operation_however_it_is_reached() {
    let app = test_app_with_auth(AuthSettings::default()).await;
    let who = principals(&app).await;
    // Through a fragment, an inline fragment, and beside an allowed field: nothing runs.
    for query in [
        "mutation { ...M } fragment M on MutationRoot { createPromptLabel(input: {name: \"x\", color: \"#ff0000\"}) { __typename } }",
        "mutation { ... on MutationRoot { createPromptLabel(input: {name: \"x\", color: \"#ff0000\"}) { __typename } } }",
        "mutation { patchViewer(input: {newUsername: \"v2\"}) { __typename } createPromptLabel(input: {name: \"x\", color: \"#ff0000\"}) { __typename } }",
    ] {
        let answer = send(&app, Method::POST, "/graphql", &who.viewer, Some(&json!({"query": query}))).await.json();
        assert_eq!(answer["errors"][0]["message"], "Viewers cannot perform this action.", "{query}: {answer}");
    }
    let labels =
        send(&app, Method::POST, "/graphql", &who.admin, Some(&json!({"query": "{ promptLabels { edges { node { name } } } }"}))).await;
    assert_eq!(labels.json()["data"]["promptLabels"]["edges"], json!([]), "no label was created");
    let viewer = send(&app, Method::POST, "/graphql", &who.viewer, Some(&json!({"query": "{ viewer { username } }"}))).await;
    assert_eq!(viewer.json()["data"]["viewer"]["username"], "viewer", "the allowed field beside it did not run either");

    // Only the operation that runs is checked.
    let document =
        "query Read { viewer { username } } mutation Write { createPromptLabel(input: {name: \"x\", color: \"#ff0000\"}) { __typename } }";
    let read = send(&app, Method::POST, "/graphql", &who.viewer, Some(&json!({"query": document, "operationName": "Read"}))).await;
    assert_eq!(read.json()["data"]["viewer"]["username"], "viewer");
    let write = send(&app, Method::POST, "/graphql", &who.viewer, Some(&json!({"query": document, "operationName": "Write"}))).await;
    assert_eq!(write.json()["errors"][0]["message"], "Viewers cannot perform this action.");

    // A field the schema does not have is reported as unknown, not as a permission problem.
    let typo = send(&app, Method::POST, "/graphql", &who.viewer, Some(&json!({"query": "mutation { createUsr { __typename } }"}))).await;
    let message = typo.json()["errors"][0]["message"].as_str().unwrap().to_string();
    assert!(message.starts_with("Unknown field \"createUsr\""), "{message}");
}
