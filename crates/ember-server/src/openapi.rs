//! ember's OpenAPI document (`GET /openapi.json`): the Phoenix REST v1 operations ember serves,
//! plus the hidden routes Phoenix leaves out of its own document.

use serde_json::{json, Map, Value};

/// (method, path, operationId, summary, query parameters, success status)
type Operation = (&'static str, &'static str, &'static str, &'static str, &'static [&'static str], &'static str);

const SPAN_FILTERS: &[&str] =
    &["cursor", "limit", "start_time", "end_time", "trace_id", "span_id", "parent_id", "name", "span_kind", "status_code", "attribute"];

const SPAN_ANNOTATION_LIST: &[&str] =
    &["span_ids", "identifier", "include_annotation_names", "exclude_annotation_names", "cursor", "limit"];
const TRACE_ANNOTATION_LIST: &[&str] =
    &["trace_ids", "identifier", "include_annotation_names", "exclude_annotation_names", "cursor", "limit"];
const SESSION_ANNOTATION_LIST: &[&str] =
    &["session_ids", "identifier", "include_annotation_names", "exclude_annotation_names", "cursor", "limit"];
const ANNOTATION_DELETE: &[&str] = &["name", "identifier", "annotator_kind", "start_time", "end_time", "delete_all"];

pub const OPERATIONS: &[Operation] = &[
    ("get", "/healthz", "healthz", "Liveness: answers OK", &[], "200"),
    ("get", "/readyz", "readyz", "Readiness: the database answers", &[], "200"),
    ("get", "/arize_phoenix_version", "getVersion", "The Phoenix API version ember implements", &[], "200"),
    ("post", "/v1/traces", "exportTraces", "OTLP/HTTP trace export (protobuf or JSON; gzip, deflate); 200 once committed", &[], "200"),
    (
        "get",
        "/v1/projects",
        "getProjects",
        "List projects",
        &["cursor", "limit", "include_experiment_projects", "include_dataset_evaluator_projects", "name_contains"],
        "200",
    ),
    ("post", "/v1/projects", "createProject", "Create a project", &[], "200"),
    ("get", "/v1/projects/{project_identifier}", "getProject", "Get a project by id or name", &[], "200"),
    ("put", "/v1/projects/{project_identifier}", "updateProject", "Update a project's description", &[], "200"),
    ("delete", "/v1/projects/{project_identifier}", "deleteProject", "Delete a project and its data (not the default project)", &[], "204"),
    ("get", "/v1/projects/{project_identifier}/spans", "getSpans", "List spans with simple filters", SPAN_FILTERS, "200"),
    ("post", "/v1/projects/{project_identifier}/spans", "createSpans", "Create spans (all or none); 202 once committed", &[], "202"),
    ("get", "/v1/projects/{project_identifier}/spans/otlpv1", "spanSearch", "List spans as OTLP JSON", SPAN_FILTERS, "200"),
    ("delete", "/v1/spans/{span_identifier}", "deleteSpan", "Delete one span by id or OpenTelemetry span id", &[], "204"),
    ("post", "/v1/spans", "querySpans", "Span query (SpanQuery DSL) answering multipart/mixed table-schema JSON", &["project_name"], "200"),
    (
        "get",
        "/v1/projects/{project_identifier}/traces",
        "listProjectTraces",
        "List traces",
        &["start_time", "end_time", "sort", "order", "limit", "cursor", "include_spans", "session_identifier"],
        "200",
    ),
    ("delete", "/v1/traces/{trace_identifier}", "deleteTrace", "Delete a trace by id or OpenTelemetry trace id", &[], "204"),
    ("post", "/v1/traces/transfer", "transferTraces", "Move traces to another project", &[], "200"),
    ("get", "/v1/projects/{project_identifier}/sessions", "listProjectSessions", "List sessions", &["cursor", "limit", "order"], "200"),
    ("get", "/v1/sessions/{session_identifier}", "getSession", "Get a session by id or session_id", &[], "200"),
    ("delete", "/v1/sessions/{session_identifier}", "deleteSession", "Delete a session with its traces", &[], "204"),
    ("post", "/v1/sessions/delete", "deleteSessions", "Delete sessions in bulk", &[], "204"),
    ("get", "/v1/datasets", "listDatasets", "List datasets, newest first", &["cursor", "name", "limit"], "200"),
    ("get", "/v1/datasets/{id}", "getDataset", "Get a dataset with its example count", &[], "200"),
    ("delete", "/v1/datasets/{id}", "deleteDatasetById", "Delete a dataset with its versions and examples", &[], "204"),
    ("get", "/v1/datasets/{id}/versions", "listDatasetVersionsByDatasetId", "List a dataset's versions, newest first", &["cursor", "limit"], "200"),
    ("get", "/v1/datasets/{id}/examples", "getDatasetExamples", "A dataset's examples at a version (the latest by default)", &["version_id", "split"], "200"),
    ("get", "/v1/datasets/{id}/csv", "getDatasetCsv", "Download a dataset's examples at a version as CSV", &["version_id"], "200"),
    ("get", "/v1/datasets/{id}/jsonl", "getDatasetJSONL", "Download a dataset's examples at a version as JSON lines", &["version_id"], "200"),
    (
        "get",
        "/v1/datasets/{id}/jsonl/openai_ft",
        "getDatasetJSONLOpenAIFineTuning",
        "Download a dataset as OpenAI fine-tuning JSON lines",
        &["version_id"],
        "200",
    ),
    ("get", "/v1/datasets/{id}/jsonl/openai_evals", "getDatasetJSONLOpenAIEvals", "Download a dataset as OpenAI evals JSON lines", &["version_id"], "200"),
    ("post", "/v1/datasets/{dataset_identifier}/splits", "createDatasetSplit", "Create a split, optionally with examples of the dataset", &[], "201"),
    ("patch", "/v1/datasets/{dataset_identifier}/splits/{split_id}", "updateDatasetSplit", "Change a split and add or remove examples", &[], "200"),
    ("delete", "/v1/datasets/{dataset_identifier}/splits/{split_id}", "deleteDatasetSplit", "Delete a split (its examples stay)", &[], "204"),
    ("get", "/v1/dataset_labels", "listDatasetLabels", "List dataset labels, newest first", &["cursor", "limit"], "200"),
    ("post", "/v1/dataset_labels", "createDatasetLabel", "Create a dataset label (name, lowercase hex color, description)", &[], "201"),
    ("get", "/v1/dataset_labels/{label_id}", "getDatasetLabel", "Get a dataset label", &[], "200"),
    ("patch", "/v1/dataset_labels/{label_id}", "updateDatasetLabel", "Change a dataset label's name, color or description", &[], "200"),
    ("delete", "/v1/dataset_labels/{label_id}", "deleteDatasetLabel", "Delete a dataset label, taking it off every dataset", &[], "204"),
    ("get", "/v1/datasets/{dataset_identifier}/labels", "listDatasetLabelsForDataset", "The labels of a dataset (by id or name)", &[], "200"),
    ("put", "/v1/datasets/{dataset_identifier}/labels", "setDatasetLabelsForDataset", "Replace the labels of a dataset", &[], "200"),
    ("put", "/v1/datasets/{dataset_identifier}/labels/{label_id}", "addDatasetLabelToDataset", "Apply a label to a dataset", &[], "200"),
    ("delete", "/v1/datasets/{dataset_identifier}/labels/{label_id}", "removeDatasetLabelFromDataset", "Take a label off a dataset", &[], "204"),
    ("post", "/v1/datasets/{dataset_id}/experiments", "createExperiment", "Create an experiment over a dataset version (and its project)", &[], "200"),
    ("get", "/v1/datasets/{dataset_id}/experiments", "listExperiments", "List a dataset's experiments, newest first", &["cursor", "limit"], "200"),
    ("get", "/v1/experiments/{experiment_id}", "getExperiment", "Get an experiment with its run counts", &[], "200"),
    ("patch", "/v1/experiments/{experiment_id}", "updateExperiment", "Change an experiment's name, description or metadata", &[], "200"),
    ("delete", "/v1/experiments/{experiment_id}", "deleteExperiment", "Delete an experiment (and optionally its project)", &["delete_project"], "204"),
    ("post", "/v1/experiments/{experiment_id}/runs", "createExperimentRun", "Record a run (409 when a successful one exists)", &[], "200"),
    ("get", "/v1/experiments/{experiment_id}/runs", "listExperimentRuns", "List an experiment's runs", &["cursor", "limit"], "200"),
    ("get", "/v1/experiments/{experiment_id}/incomplete-runs", "getIncompleteExperimentRuns", "Examples with repetitions still to run", &["cursor", "limit"], "200"),
    (
        "get",
        "/v1/experiments/{experiment_id}/incomplete-evaluations",
        "getIncompleteExperimentEvaluations",
        "Successful runs lacking a successful evaluation",
        &["evaluation_name", "cursor", "limit"],
        "200",
    ),
    ("post", "/v1/experiment_evaluations", "upsertExperimentEvaluation", "Record an evaluation of a run (upsert by run and name)", &[], "200"),
    ("get", "/v1/experiments/{experiment_id}/tags", "listExperimentTags", "The tags pointing at an experiment", &[], "200"),
    ("post", "/v1/experiments/{experiment_id}/tags", "setExperimentTag", "Point a dataset tag at an experiment", &[], "200"),
    ("delete", "/v1/experiments/{experiment_id}/tags/{tag_identifier}", "deleteExperimentTag", "Remove a tag the experiment owns", &[], "204"),
    ("get", "/v1/experiments/{experiment_id}/json", "getExperimentJSON", "Download the runs with examples and evaluations as JSON", &[], "200"),
    ("get", "/v1/experiments/{experiment_id}/csv", "getExperimentCSV", "Download the runs with examples and evaluations as CSV", &[], "200"),
    ("post", "/v1/datasets/upload", "uploadDataset", "Create a dataset or append examples to one (JSON body)", &["sync"], "200"),
    ("get", "/v1/annotation_configs", "listAnnotationConfigs", "List annotation configs, newest first", &["cursor", "limit"], "200"),
    (
        "post",
        "/v1/annotation_configs",
        "createAnnotationConfig",
        "Create a categorical, continuous or freeform annotation config",
        &[],
        "200",
    ),
    ("get", "/v1/annotation_configs/{config_identifier}", "getAnnotationConfig", "Get an annotation config by id or name", &[], "200"),
    ("put", "/v1/annotation_configs/{config_identifier}", "updateAnnotationConfig", "Replace an annotation config (by id)", &[], "200"),
    (
        "delete",
        "/v1/annotation_configs/{config_identifier}",
        "deleteAnnotationConfig",
        "Delete an annotation config (by id); returns it",
        &[],
        "200",
    ),
    (
        "get",
        "/v1/projects/{project_identifier}/annotation_configs",
        "getProjectAnnotationConfigs",
        "The annotation configs assigned to a project",
        &["cursor", "limit"],
        "200",
    ),
    (
        "put",
        "/v1/projects/{project_identifier}/annotation_configs",
        "setProjectAnnotationConfigs",
        "Replace the set of annotation configs assigned to a project",
        &[],
        "200",
    ),
    (
        "put",
        "/v1/projects/{project_identifier}/annotation_configs/{config_identifier}",
        "assignAnnotationConfigToProject",
        "Assign an annotation config to a project",
        &[],
        "200",
    ),
    (
        "delete",
        "/v1/projects/{project_identifier}/annotation_configs/{config_identifier}",
        "unassignAnnotationConfigFromProject",
        "Unassign an annotation config from a project",
        &[],
        "204",
    ),
    (
        "post",
        "/v1/evaluations",
        "addEvaluations",
        "Legacy (Phoenix 13 and older): one protobuf Evaluation or one pandas Arrow stream, stored as LLM annotations",
        &[],
        "204",
    ),
    (
        "get",
        "/v1/evaluations",
        "getEvaluations",
        "Legacy: a project's LLM annotations as concatenated pandas Arrow streams, one per level and name",
        &["project_name"],
        "200",
    ),
    (
        "post",
        "/v1/projects/{project_identifier}/spans/evaluations",
        "updateSpanEvaluations",
        "ember (Arize AX): upsert LLM evaluations from rows with context.span_id and eval.<Name>.label|score|explanation (JSON, CSV or Arrow IPC)",
        &[],
        "200",
    ),
    (
        "post",
        "/v1/projects/{project_identifier}/spans/annotations",
        "updateSpanAnnotations",
        "ember (Arize AX): upsert human annotations from rows with context.span_id and annotation.<Name>.label|score|text; at most 1,000 spans, all in [start_time, end_time) (default: 31 days)",
        &["start_time", "end_time"],
        "200",
    ),
    (
        "post",
        "/v1/projects/{project_identifier}/spans/metadata",
        "updateSpanMetadata",
        "ember (Arize AX): set metadata keys from attributes.metadata.<field> columns and a patch document column; per-span errors in the response",
        &["patch_document_column_name"],
        "200",
    ),
    (
        "post",
        "/v1/projects/{project_identifier}/spans/delete",
        "deleteSpansById",
        "ember (Arize AX): delete spans by id ({\"span_ids\": [...]} or rows); unknown ids are ignored",
        &[],
        "204",
    ),
    ("post", "/v1/span_annotations", "annotateSpans", "Upsert span annotations by (name, span, identifier)", &["sync"], "200"),
    ("post", "/v1/trace_annotations", "annotateTraces", "Upsert trace annotations by (name, trace, identifier)", &["sync"], "200"),
    ("post", "/v1/session_annotations", "annotateSessions", "Upsert session annotations by (name, session, identifier)", &["sync"], "200"),
    (
        "post",
        "/v1/document_annotations",
        "annotateSpanDocuments",
        "Upsert annotations of retrieved documents by (name, span, document position, identifier)",
        &["sync"],
        "200",
    ),
    ("post", "/v1/span_notes", "createSpanNote", "Add a note to a span", &[], "200"),
    ("post", "/v1/trace_notes", "createTraceNote", "Add a note to a trace", &[], "200"),
    ("post", "/v1/session_notes", "createSessionNote", "Add a note to a session", &[], "200"),
    (
        "get",
        "/v1/projects/{project_identifier}/span_annotations",
        "listSpanAnnotationsBySpanIds",
        "A project's span annotations, newest first",
        SPAN_ANNOTATION_LIST,
        "200",
    ),
    (
        "delete",
        "/v1/projects/{project_identifier}/span_annotations",
        "deleteSpanAnnotations",
        "Delete a project's span annotations",
        ANNOTATION_DELETE,
        "204",
    ),
    (
        "get",
        "/v1/projects/{project_identifier}/trace_annotations",
        "listTraceAnnotationsByTraceIds",
        "A project's trace annotations, newest first",
        TRACE_ANNOTATION_LIST,
        "200",
    ),
    (
        "delete",
        "/v1/projects/{project_identifier}/trace_annotations",
        "deleteTraceAnnotations",
        "Delete a project's trace annotations",
        ANNOTATION_DELETE,
        "204",
    ),
    (
        "get",
        "/v1/projects/{project_identifier}/session_annotations",
        "listSessionAnnotationsBySessionIds",
        "A project's session annotations, newest first",
        SESSION_ANNOTATION_LIST,
        "200",
    ),
    (
        "delete",
        "/v1/projects/{project_identifier}/session_annotations",
        "deleteSessionAnnotations",
        "Delete a project's session annotations",
        ANNOTATION_DELETE,
        "204",
    ),
    (
        "post",
        "/graphql",
        "graphql",
        "GraphQL (feature graphql): node(id:), getSpanByOtelId, createSpanAnnotations, patchSpanAnnotations, deleteSpanAnnotations, and Arize AX updateAnnotations",
        &[],
        "200",
    ),
    ("get", "/openapi.json", "getOpenApi", "This document", &[], "200"),
];

pub fn document() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for (method, path, operation_id, summary, query, success) in OPERATIONS {
        let mut parameters: Vec<Value> = path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        parameters.extend(query.iter().map(|name| json!({"name": name, "in": "query", "required": false, "schema": {"type": "string"}})));
        let operation = json!({
            "operationId": operation_id,
            "summary": summary,
            "parameters": parameters,
            "responses": {
                *success: {"description": "Success"},
                "404": {"description": "Not Found", "content": {"text/plain": {"schema": {"type": "string"}}}},
                "422": {"description": "Unprocessable Entity"},
            },
        });
        paths.entry(path.to_string()).or_insert_with(|| json!({}))[*method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "ember",
            "description": "ember: a Phoenix-compatible LLM observability server",
            "version": env!("CARGO_PKG_VERSION"),
            "x-phoenix-api-version": crate::PHOENIX_COMPATIBLE_VERSION,
        },
        "paths": paths,
    })
}
