//! How a span reads: input and output (JSON pretty-printed, text as markdown), LLM messages as
//! a chat, retrieved documents with scores, tool calls, tokens, attributes, events, exceptions.

use ember_core::cost::{ModelPrice, PriceOrigin};
use ember_core::Span;
use ember_store::{SpanCostRecord, SpanRecord};
use maud::{html, Markup, PreEscaped};
use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};
use serde_json::Value;

use super::format;

/// The attribute at a dotted path as text: strings as they are, anything else as JSON.
pub fn attribute_text(span: &Span, path: &str) -> String {
    match span.attribute(path) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

pub fn status_badge(record: &SpanRecord) -> Markup {
    let status = record.span.status_code.as_str();
    html! { span class=(format!("status {status}")) title=(record.span.status_message) { (status) } }
}

/// The elements of a list attribute: a JSON array, or an object keyed by positions.
fn items(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        Value::Object(map) => {
            let mut keyed: Vec<(u64, &Value)> = map.iter().filter_map(|(k, v)| k.parse().ok().map(|i| (i, v))).collect();
            keyed.sort_by_key(|(i, _)| *i);
            keyed.into_iter().map(|(_, v)| v).collect()
        }
        _ => Vec::new(),
    }
}

fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

/// A value as JSON (pretty) when it is JSON, otherwise as markdown.
pub fn rich_text(text: &str, mime_type: Option<&str>) -> Markup {
    let trimmed = text.trim_start();
    if mime_type == Some("application/json") || trimmed.starts_with('{') || trimmed.starts_with('[') {
        if let Ok(json) = serde_json::from_str::<Value>(text) {
            return html! { pre.json { (serde_json::to_string_pretty(&json).unwrap_or_else(|_| text.to_string())) } };
        }
    }
    // The text as sent too, shown instead when the reader asks for raw text.
    html! { div.markdown { (markdown(text)) } pre.raw { (text) } }
}

/// Markdown as HTML without raw HTML, images or script links: what the text says, not what it
/// could make the browser fetch or run.
fn markdown(text: &str) -> Markup {
    let events = Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            // A path of this site, not a protocol-relative link to another (`//host`, `/\host`).
            let local_path = dest_url.starts_with('/') && !dest_url.starts_with("//") && !dest_url.starts_with("/\\");
            let safe = local_path || ["http://", "https://", "mailto:", "#"].iter().any(|prefix| dest_url.starts_with(prefix));
            let dest_url = if safe { dest_url } else { CowStr::Borrowed("#") };
            Some(Event::Start(Tag::Link { link_type: if safe { link_type } else { LinkType::Inline }, dest_url, title, id }))
        }
        other => Some(other),
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    PreEscaped(html)
}

/// LLM messages (`llm.input_messages` / `llm.output_messages`) as a chat.
fn chat(messages: &Value) -> Markup {
    html! {
        div.chat {
            @for item in items(messages) {
                @let message = item.get("message").unwrap_or(item);
                @let role = text_of(message.get("role")).unwrap_or_else(|| "message".into());
                div class=(format!("msg {}", role.to_lowercase())) {
                    div.role {
                        (role)
                        @if let Some(name) = text_of(message.get("name")) { " · " (name) }
                        @if let Some(id) = text_of(message.get("tool_call_id")) { " · result of " code { (id) } }
                    }
                    @if let Some(content) = text_of(message.get("content")) { (rich_text(&content, None)) }
                    @if let Some(contents) = message.get("contents") {
                        @for part in items(contents) {
                            @let part = part.get("message_content").unwrap_or(part);
                            @if let Some(text) = text_of(part.get("text")) { (rich_text(&text, None)) }
                            @else if let Some(url) = part.get("image").and_then(|i| text_of(i.get("image").and_then(|j| j.get("url")).or(i.get("url")))) {
                                p.muted { "image: " code { (format::preview(&url, 80)) } }
                            }
                        }
                    }
                    @if let Some(calls) = message.get("tool_calls") {
                        @for call in items(calls) {
                            @let call = call.get("tool_call").unwrap_or(call);
                            @let function = call.get("function");
                            div.tool-call {
                                "→ call " strong { (text_of(function.and_then(|f| f.get("name"))).unwrap_or_default()) }
                                @if let Some(id) = text_of(call.get("id")) { " " code.muted { (id) } }
                                @if let Some(arguments) = text_of(function.and_then(|f| f.get("arguments"))) { (rich_text(&arguments, Some("application/json"))) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Retrieved (or reranked) documents with their scores.
fn documents(list: &Value) -> Markup {
    html! {
        @for (position, item) in items(list).into_iter().enumerate() {
            @let document = item.get("document").unwrap_or(item);
            div.doc {
                @if let Some(score) = document.get("score").and_then(Value::as_f64) { span.score { "score " (format!("{score:.4}")) } }
                div.muted { "#" (position) @if let Some(id) = text_of(document.get("id")) { " · " code { (id) } } }
                @if let Some(content) = text_of(document.get("content")) { (rich_text(&content, None)) }
                @if let Some(metadata) = document.get("metadata") { pre { (pretty(metadata)) } }
            }
        }
    }
}

fn pretty(value: &Value) -> String {
    match value {
        // JSON strings of JSON (metadata, tool parameters) are shown parsed.
        Value::String(text) => {
            serde_json::from_str::<Value>(text).map_or_else(|_| text.clone(), |v| serde_json::to_string_pretty(&v).unwrap_or_default())
        }
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

/// What a span cost: the stored cost and the price it came from (if that price still exists).
pub struct SpanCostView<'a> {
    pub cost: &'a SpanCostRecord,
    pub price: Option<&'a ModelPrice>,
}

/// The cost lines of the detail pane: the total, then the breakdown by token type.
fn cost_rows(view: &SpanCostView<'_>) -> Markup {
    let record = view.cost;
    html! {
        span.muted { "cost" }
        span #span-cost {
            @match record.cost {
                Some(cost) => {
                    strong { (format::usd(cost.total())) } " = " (format::usd(cost.prompt)) " prompt + " (format::usd(cost.completion)) " completion"
                    @if let Some(price) = view.price {
                        span.muted {
                            " · priced as " (price.name)
                            @if !price.provider.is_empty() { " (" (price.provider) ")" }
                            @if price.origin == PriceOrigin::User { ", user-defined" } @else { ", built-in" }
                        }
                    }
                }
                None => {
                    span.muted { "no price for model " code { (record.model_name) } " — " a href="/settings#model-prices" { "add one" } }
                }
            }
        }
        @if let (Some(_), Some(price)) = (record.cost, view.price) {
            span.muted { "by token type" }
            table.grid.compact #cost-breakdown {
                thead { tr { th { "Type" } th.num { "Tokens" } th.num { "USD / 1M" } th.num { "Cost" } } }
                tbody {
                    @for line in record.tokens.breakdown(&price.rates) {
                        tr {
                            td { (if line.token_type.is_prompt() { "prompt " } else { "completion " }) (line.token_type.as_str()) }
                            td.num { (format::count(line.tokens)) }
                            td.num { (format!("{:.4}", line.rate * 1e6)) }
                            td.num { (format::usd(line.cost)) }
                        }
                    }
                }
            }
        }
    }
}

/// Everything about one span, for the trace page's detail pane.
pub fn detail(record: &SpanRecord, cost: Option<SpanCostView<'_>>) -> Markup {
    let span = &record.span;
    let llm = span.attributes.get("llm");
    let input = attribute_text(span, "input.value");
    let output = attribute_text(span, "output.value");
    let exceptions: Vec<_> = span.events.iter().filter(|e| e.name == "exception").collect();
    html! {
        h2 { (span.name) " " span.kind { (span.span_kind.as_str()) } " " (status_badge(record)) }
        @if !span.status_message.is_empty() { p.error-text { (span.status_message) } }
        div.ids {
            span.muted { "span id" } span { code { (span.span_id) } button.copy type="button" data-copy=(span.span_id) { "copy" } }
            span.muted { "trace id" } span { code { (span.trace_id) } button.copy type="button" data-copy=(span.trace_id) { "copy" } }
            @if let Some(parent) = &span.parent_id { span.muted { "parent" } span { code { (parent) } } }
            span.muted { "start" } span { (format::precise(span.start_time)) }
            span.muted { "latency" } span { (format::span_of(span.start_time, span.end_time)) }
            @if let Some(model) = span.attribute("llm.model_name").and_then(Value::as_str) { span.muted { "model" } span { (model) } }
            @if record.cumulative_llm_token_count_prompt + record.cumulative_llm_token_count_completion > 0 {
                span.muted { "tokens" }
                span {
                    (format::count(record.cumulative_llm_token_count_prompt)) " prompt + "
                    (format::count(record.cumulative_llm_token_count_completion)) " completion"
                    @if record.llm_token_count_prompt.is_none() { span.muted { " (in descendants)" } }
                }
            }
            @if let Some(cost) = &cost { (cost_rows(cost)) }
        }
        @if let Some(messages) = llm.and_then(|l| l.get("input_messages")) { h3 { "Input messages" } (chat(messages)) }
        @else if !input.is_empty() { h3 { "Input" } (rich_text(&input, span.attribute("input.mime_type").and_then(Value::as_str))) }
        @if let Some(messages) = llm.and_then(|l| l.get("output_messages")) { h3 { "Output messages" } (chat(messages)) }
        @else if !output.is_empty() { h3 { "Output" } (rich_text(&output, span.attribute("output.mime_type").and_then(Value::as_str))) }
        @if let Some(list) = span.attribute("retrieval.documents") { h3 { "Retrieved documents" } (documents(list)) }
        @if let Some(list) = span.attribute("reranker.output_documents") { h3 { "Reranked documents" } (documents(list)) }
        @if let Some(tool) = span.attributes.get("tool") {
            h3 { "Tool" @if let Some(name) = text_of(tool.get("name")) { " " code { (name) } } }
            @if let Some(description) = text_of(tool.get("description")) { p { (description) } }
            @if let Some(parameters) = tool.get("parameters") { div.muted { "parameters" } pre { (pretty(parameters)) } }
        }
        @if let Some(parameters) = span.attribute("llm.invocation_parameters") { h3 { "Invocation parameters" } pre { (pretty(parameters)) } }
        @if !exceptions.is_empty() {
            h3.error-text { "Exceptions" }
            @for event in &exceptions {
                div.notice.error {
                    strong { (text_of(event.attributes.get("exception.type")).unwrap_or_default()) } " "
                    (text_of(event.attributes.get("exception.message")).unwrap_or_default())
                    @if let Some(trace) = text_of(event.attributes.get("exception.stacktrace")) { pre { (trace) } }
                }
            }
        }
        @if !span.events.is_empty() {
            h3 { "Events" }
            table.grid {
                tbody {
                    @for event in &span.events {
                        tr { td { (format::precise(event.timestamp)) } td { (event.name) } td { @if !event.attributes.is_empty() { pre { (serde_json::to_string_pretty(&event.attributes).unwrap_or_default()) } } } }
                    }
                }
            }
        }
        h3 { "Attributes" }
        pre #attributes { (serde_json::to_string_pretty(&span.attributes).unwrap_or_default()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_keeps_text_and_drops_html_images_and_script_links() {
        let html = markdown("**bold** <script>alert(1)</script> ![x](http://elsewhere/i.png) [a](javascript:alert(1)) [b](https://ok)")
            .into_string();
        assert!(html.contains("<strong>bold</strong>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "raw HTML is shown as text: {html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains("href=\"https://ok\""), "{html}");
        // D18: protocol-relative links to another site are not links.
        let relative = markdown("[c](//evil.example/x) [d](/\\evil.example) [e](/projects)").into_string();
        assert!(!relative.contains("evil.example/x\"") && !relative.contains("href=\"/\\"), "{relative}");
        assert!(relative.contains("href=\"/projects\""), "{relative}");
    }

    #[test]
    fn json_values_are_pretty_printed_and_lists_read_from_positions() {
        assert!(rich_text("{\"a\":1}", None).into_string().contains("{\n  &quot;a&quot;: 1\n}"));
        let keyed = serde_json::json!({"1": "b", "0": "a"});
        assert_eq!(items(&keyed), [&serde_json::json!("a"), &serde_json::json!("b")]);
    }
}
