//! The annotation side panel of the trace and session pages: for each annotated object (a span,
//! its trace, a session) the annotations it has as chips, a form per annotation config offered in
//! the project with the control its type calls for (a select of a categorical config's labels, a
//! bounded number for a continuous one, text for freeform), its notes and a box to add one. The
//! forms post to `annotate`, whose service holds the rules; the panel only offers what they allow.

use ember_core::{AnnotationTarget, AnnotatorKind};
use ember_service::annotation_configs::AnnotationConfigInput;
use ember_service::annotations::NOTE_NAME;
use ember_store::{AnnotationConfig, AnnotationRecord};
use maud::{html, Markup};

use super::format;

/// One object the panel annotates.
pub struct PanelTarget<'a> {
    pub level: AnnotationTarget,
    /// The OpenTelemetry span or trace id, or the session's `session.id`.
    pub target_id: &'a str,
    /// How the panel names it: "this span", "the trace", "this session".
    pub title: &'a str,
    pub annotations: &'a [AnnotationRecord],
}

/// What the panel's forms post with: the project, the page to come back to, and whether the
/// caller may write; and what the last write answered, shown at the panel's top.
pub struct PanelContext<'a> {
    pub project_id: i64,
    pub return_to: &'a str,
    pub configs: &'a [AnnotationConfig],
    pub can_write: bool,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
}

/// The form level names `annotate` reads.
pub fn level_name(level: AnnotationTarget) -> &'static str {
    match level {
        AnnotationTarget::Span | AnnotationTarget::Document => "span",
        AnnotationTarget::Trace => "trace",
        AnnotationTarget::Session => "session",
    }
}

/// A short reading of an annotation: its label, its score, or the start of its explanation.
pub fn chip_value(annotation: &AnnotationRecord) -> String {
    match (&annotation.label, annotation.score) {
        (Some(label), Some(score)) => format!("{label} ({})", format::score(score)),
        (Some(label), None) => label.clone(),
        (None, Some(score)) => format::score(score),
        (None, None) => annotation.explanation.as_deref().map(|text| format::preview(text, 24)).unwrap_or_default(),
    }
}

/// A chip for an annotation: name and value, coloured by who made it.
pub fn chip(annotation: &AnnotationRecord) -> Markup {
    let kind = annotation.annotator_kind.as_str();
    let title = match &annotation.explanation {
        Some(explanation) => format!("{} · {kind}: {explanation}", annotation.name),
        None => format!("{} · {kind}", annotation.name),
    };
    html! { span class=(format!("chip {}", kind.to_lowercase())) title=(title) { (annotation.name) ": " (chip_value(annotation)) } }
}

pub fn panel(context: &PanelContext<'_>, targets: &[PanelTarget<'_>]) -> Markup {
    html! {
        aside.annotation-panel #annotation-panel {
            @if let Some(notice) = context.notice { p.notice { (notice) } }
            @if let Some(error) = context.error { p.notice.error #annotation-error { (error) } }
            @for target in targets { (section(context, target)) }
        }
    }
}

fn hidden_target(context: &PanelContext<'_>, target: &PanelTarget<'_>) -> Markup {
    html! {
        input type="hidden" name="level" value=(level_name(target.level));
        input type="hidden" name="target_id" value=(target.target_id);
        input type="hidden" name="return_to" value=(context.return_to);
    }
}

fn section(context: &PanelContext<'_>, target: &PanelTarget<'_>) -> Markup {
    let level = level_name(target.level);
    let (notes, annotations): (Vec<&AnnotationRecord>, Vec<&AnnotationRecord>) =
        target.annotations.iter().partition(|annotation| annotation.name == NOTE_NAME);
    let project_id = context.project_id;
    html! {
        section.panel-target data-level=(level) {
            h3 { "Annotations of " (target.title) }
            @if annotations.is_empty() { p.muted { "None yet." } }
            div.chips {
                @for annotation in &annotations { (chip(annotation)) }
            }
            @if context.can_write {
                @for config in context.configs {
                    (config_form(context, target, config, &annotations))
                }
                @if context.configs.is_empty() {
                    p.muted { "No annotation configs yet: " a href="/settings#new-config" { "add one in Settings" } " to annotate here with labels and scores." }
                }
            }
            h3 { "Notes" }
            @if notes.is_empty() { p.muted { "No notes." } }
            @for note in &notes {
                div.note {
                    (note.explanation.as_deref().unwrap_or(""))
                    div.muted { (format::local_time(note.created_at)) }
                }
            }
            @if context.can_write {
                form.note-form method="post" action=(format!("/projects/{project_id}/notes")) {
                    (hidden_target(context, target))
                    textarea name="text" rows="2" required placeholder=(format!("A note on {}", target.title)) aria-label="note" {}
                    button.small type="submit" { "Add note" }
                }
            }
        }
    }
}

/// The form for one config; a person's current annotation of that name fills it in.
fn config_form(
    context: &PanelContext<'_>,
    target: &PanelTarget<'_>,
    config: &AnnotationConfig,
    annotations: &[&AnnotationRecord],
) -> Markup {
    let current = annotations.iter().find(|annotation| annotation.name == config.name && annotation.annotator_kind == AnnotatorKind::Human);
    let description = config.config.get("description").and_then(|d| d.as_str()).unwrap_or("");
    let id = format!("{}-{}", level_name(target.level), config.id);
    html! {
        form.config-annotation method="post" action=(format!("/projects/{}/annotations", context.project_id))
            data-config=(config.name) {
            (hidden_target(context, target))
            input type="hidden" name="name" value=(config.name);
            label for=(id) title=(description) { (config.name) }
            @match AnnotationConfigInput::of_stored(config) {
                Some(AnnotationConfigInput::Categorical { values, .. }) => {
                    select #(id) name="label" required {
                        option value="" disabled selected[current.is_none()] { "choose…" }
                        @for value in &values {
                            option value=(value.label) selected[current.and_then(|c| c.label.as_deref()) == Some(value.label.as_str())] {
                                (value.label) @if let Some(score) = value.score { " (" (format::score(score)) ")" }
                            }
                        }
                    }
                }
                Some(AnnotationConfigInput::Continuous { lower_bound, upper_bound, .. }) => {
                    input #(id) type="number" name="score" step="any" required
                        min=[lower_bound] max=[upper_bound] value=[current.and_then(|c| c.score)]
                        placeholder=(range_hint(lower_bound, upper_bound));
                }
                _ => {
                    textarea #(id) name="explanation" rows="2" required { (current.and_then(|c| c.explanation.as_deref()).unwrap_or("")) }
                }
            }
            @if !matches!(AnnotationConfigInput::of_stored(config), Some(AnnotationConfigInput::Freeform { .. }) | None) {
                input type="text" name="explanation" placeholder="why (optional)" aria-label="explanation"
                    value=(current.and_then(|c| c.explanation.as_deref()).unwrap_or(""));
            }
            button.small type="submit" { @if current.is_some() { "Update" } @else { "Save" } }
        }
    }
}

fn range_hint(lower: Option<f64>, upper: Option<f64>) -> String {
    match (lower, upper) {
        (Some(lower), Some(upper)) => format!("{lower} to {upper}"),
        (Some(lower), None) => format!("≥ {lower}"),
        (None, Some(upper)) => format!("≤ {upper}"),
        (None, None) => "a number".into(),
    }
}
