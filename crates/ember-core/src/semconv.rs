//! OpenInference semantic-convention attribute names that ember reads or treats specially.

pub const SPAN_KIND: &str = "openinference.span.kind";
pub const PROJECT_NAME: &str = "openinference.project.name";
pub const SESSION_ID: &str = "session.id";
pub const INPUT_VALUE: &str = "input.value";
pub const INPUT_MIME_TYPE: &str = "input.mime_type";
pub const OUTPUT_VALUE: &str = "output.value";
pub const RETRIEVAL_DOCUMENTS: &str = "retrieval.documents";
pub const LLM_TOKEN_COUNT_PROMPT: &str = "llm.token_count.prompt";
pub const LLM_TOKEN_COUNT_COMPLETION: &str = "llm.token_count.completion";
pub const LLM_TOKEN_COUNT_TOTAL: &str = "llm.token_count.total";

/// Attribute keys whose string values hold JSON that Phoenix parses into objects.
pub const JSON_STRING_SUFFIXES: &[&str] = &["metadata", "tool.parameters", "llm.prompt_template.variables", "document.metadata"];

/// Every OpenInference attribute key (spans', documents' and messages'). Dataframe flattening,
/// of span attributes and of exploded list elements, stops at these keys: a value
/// under one of them stays whole (a list of messages, a metadata object) instead of being
/// split into more columns.
pub const SEMANTIC_CONVENTIONS: &[&str] = &[
    "openinference.span.kind",
    "input.value",
    "input.mime_type",
    "output.value",
    "output.mime_type",
    "llm.input_messages",
    "llm.output_messages",
    "llm.model_name",
    "llm.provider",
    "llm.system",
    "llm.invocation_parameters",
    "llm.prompts",
    "llm.tools",
    "llm.function_call",
    "llm.prompt_template.template",
    "llm.prompt_template.variables",
    "llm.prompt_template.version",
    "llm.token_count.prompt",
    "llm.token_count.completion",
    "llm.token_count.total",
    "llm.token_count.prompt_details.cache_read",
    "llm.token_count.prompt_details.cache_write",
    "llm.token_count.prompt_details.audio",
    "llm.token_count.completion_details.reasoning",
    "llm.token_count.completion_details.audio",
    "llm.cost.prompt",
    "llm.cost.completion",
    "llm.cost.total",
    "embedding.embeddings",
    "embedding.model_name",
    "embedding.text",
    "embedding.vector",
    "retrieval.documents",
    "reranker.input_documents",
    "reranker.output_documents",
    "reranker.model_name",
    "reranker.query",
    "reranker.top_k",
    "tool.name",
    "tool.description",
    "tool.parameters",
    "tool.id",
    "tool.json_schema",
    "document.id",
    "document.content",
    "document.score",
    "document.metadata",
    "message.role",
    "message.content",
    "message.contents",
    "message.name",
    "message.tool_calls",
    "message.tool_call_id",
    "message.function_call_name",
    "message.function_call_arguments_json",
    "message_content.type",
    "message_content.text",
    "message_content.image",
    "image.url",
    "audio.url",
    "audio.mime_type",
    "audio.transcript",
    "tool_call.id",
    "tool_call.function.name",
    "tool_call.function.arguments",
    "session.id",
    "user.id",
    "metadata",
    "tag.tags",
    "agent.name",
    "graph.node.id",
    "graph.node.name",
    "graph.node.parent_id",
    "prompt.vendor",
    "prompt.id",
    "prompt.url",
];

/// Whether `path` is a semantic-convention key.
pub fn is_semantic_convention(path: &str) -> bool {
    SEMANTIC_CONVENTIONS.contains(&path)
}

/// Whether some semantic-convention key lies strictly below `path` (`llm` or `llm.token_count`).
pub fn is_semantic_prefix(path: &str) -> bool {
    SEMANTIC_CONVENTIONS.iter().any(|key| key.len() > path.len() && key.starts_with(path) && key.as_bytes()[path.len()] == b'.')
}
