//! The time range a page looks at, picked from a few presets ending now.

use ember_core::time::now_nanos;
use ember_service::{Caller, ServiceError, Services};
use maud::{html, Markup};

const HOUR: i64 = 3_600_000_000_000;
const ALL: &str = "all";

/// (key in the URL, label, length).
const PRESETS: [(&str, &str, i64); 5] = [
    ("1h", "Last hour", HOUR),
    ("24h", "Last 24 hours", 24 * HOUR),
    ("7d", "Last 7 days", 7 * 24 * HOUR),
    ("30d", "Last 30 days", 30 * 24 * HOUR),
    ("90d", "Last 90 days", 90 * 24 * HOUR),
];

#[derive(Debug, Clone, Copy)]
pub struct TimeRange {
    pub key: &'static str,
    pub start: i64,
    pub end: i64,
}

impl TimeRange {
    /// The preset named `key` (7 days when absent or unknown), ending now; "all" starts at the
    /// first hour with spans among `project_ids`.
    pub async fn from_key(key: Option<&str>, services: &Services, caller: &Caller, project_ids: &[i64]) -> Result<TimeRange, ServiceError> {
        let end = now_nanos();
        if key == Some(ALL) {
            let first = services.projects().first_activity_hour(caller, project_ids).await?.unwrap_or(end - HOUR);
            return Ok(TimeRange { key: ALL, start: first.min(end - HOUR), end });
        }
        Ok(TimeRange::preset(key, end))
    }

    /// The preset named `key` (7 days when absent or unknown) ending at `end`.
    pub fn preset(key: Option<&str>, end: i64) -> TimeRange {
        let (key, _, length) = PRESETS.iter().copied().find(|(k, _, _)| Some(*k) == key).unwrap_or(PRESETS[2]);
        TimeRange { key, start: end - length, end }
    }

    /// A `<select>` of the presets alone.
    pub fn preset_picker(&self) -> Markup {
        html! {
            label.muted for="range" { "Time range " }
            select #range name="range" {
                @for (key, label, _) in PRESETS {
                    option value=(key) selected[key == self.key] { (label) }
                }
            }
        }
    }

    /// A `<select>` submitting its form when changed (through the form's button for keyboards).
    pub fn picker(&self) -> Markup {
        html! {
            label.muted for="range" { "Time range " }
            select #range name="range" {
                @for (key, label, _) in PRESETS {
                    option value=(key) selected[key == self.key] { (label) }
                }
                option value=(ALL) selected[self.key == ALL] { "All time" }
            }
        }
    }
}
