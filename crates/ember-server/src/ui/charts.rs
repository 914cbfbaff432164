//! Small inline SVG charts: bars, latency lines and sparklines, drawn on the server.

use maud::{html, Markup};

use super::format;

const WIDTH: f64 = 300.0;
const HEIGHT: f64 = 80.0;

/// One bar per value; `labels` give each bar's tooltip.
pub fn bars(values: &[i64], labels: &[String], class: &str) -> Markup {
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = WIDTH / values.len().max(1) as f64;
    html! {
        svg viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) preserveAspectRatio="none" role="img" {
            @for (i, value) in values.iter().enumerate() {
                @let height = (*value as f64 / max * (HEIGHT - 2.0)).max(if *value > 0 { 1.5 } else { 0.0 });
                rect class=(format!("bar {class}")) x=(format!("{:.2}", i as f64 * step + 0.5)) y=(format!("{:.2}", HEIGHT - height))
                    width=(format!("{:.2}", (step - 1.0).max(0.5))) height=(format!("{height:.2}")) {
                    title { (labels.get(i).map(String::as_str).unwrap_or("")) ": " (format::count(*value)) }
                }
            }
        }
    }
}

/// p50 and p99 latency lines (gaps where a bin has no traces).
pub fn latency_lines(p50: &[Option<f64>], p99: &[Option<f64>]) -> Markup {
    let max = p99.iter().chain(p50).flatten().copied().fold(0.0_f64, f64::max).max(0.001);
    let step = WIDTH / p50.len().max(1) as f64;
    let point = |i: usize, v: f64| (i as f64 * step + step / 2.0, HEIGHT - 1.0 - v / max * (HEIGHT - 2.0));
    let path = |values: &[Option<f64>]| line_path(values, point);
    html! {
        svg viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) preserveAspectRatio="none" role="img" {
            title { "p50 (solid) and p99 (dashed); highest p99 " (format::millis(max)) }
            path.line d=(path(p50)) {}
            path class="line p99" d=(path(p99)) {}
            // Dots too, so a bin between two empty ones still shows.
            @for (i, value) in p50.iter().enumerate() { @if let Some(v) = value { @let (x, y) = point(i, *v); circle.dot cx=(format!("{x:.2}")) cy=(format!("{y:.2}")) r="1.6" {} } }
            @for (i, value) in p99.iter().enumerate() { @if let Some(v) = value { @let (x, y) = point(i, *v); circle class="dot p99" cx=(format!("{x:.2}")) cy=(format!("{y:.2}")) r="1.6" {} } }
        }
    }
}

/// An SVG path through the values at `point(index, value)`, lifting the pen over gaps.
fn line_path(values: &[Option<f64>], point: impl Fn(usize, f64) -> (f64, f64)) -> String {
    let mut d = String::new();
    let mut pen_down = false;
    for (i, value) in values.iter().enumerate() {
        match value {
            Some(v) => {
                let (x, y) = point(i, *v);
                d.push_str(&format!("{}{x:.2} {y:.2} ", if pen_down { "L" } else { "M" }));
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    d
}

/// A tiny line of counts over time.
pub fn sparkline(values: &[i64]) -> Markup {
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = 120.0 / (values.len().max(2) - 1) as f64;
    let points: Vec<String> =
        values.iter().enumerate().map(|(i, v)| format!("{:.1},{:.1}", i as f64 * step, 23.0 - *v as f64 / max * 21.0)).collect();
    html! {
        svg.spark viewBox="0 0 120 24" preserveAspectRatio="none" role="img" {
            title { "Traces over the range: " (format::count(values.iter().sum())) }
            polyline.line points=(points.join(" ")) {}
        }
    }
}

/// One metric over time (gaps where a bin has no value); `title` names it and its latest value.
pub fn metric_line(values: &[Option<f64>], title: &str) -> Markup {
    let present = || values.iter().flatten().copied();
    let (low, high) = (present().fold(f64::INFINITY, f64::min), present().fold(f64::NEG_INFINITY, f64::max));
    let (low, span) = if low.is_finite() { (low, (high - low).max(1e-9)) } else { (0.0, 1.0) };
    let step = WIDTH / values.len().max(1) as f64;
    let point = |i: usize, v: f64| (i as f64 * step + step / 2.0, HEIGHT - 4.0 - (v - low) / span * (HEIGHT - 8.0));
    let d = line_path(values, point);
    html! {
        svg viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) preserveAspectRatio="none" role="img" {
            title { (title) }
            path.line d=(d) {}
            @for (i, value) in values.iter().enumerate() { @if let Some(v) = value { @let (x, y) = point(i, *v); circle.dot cx=(format!("{x:.2}")) cy=(format!("{y:.2}")) r="1.6" {} } }
        }
    }
}

/// Two distributions over the same bins, side by side per bin: the baseline's share and the
/// current one's; `bins` are (label, baseline share, current share).
pub fn distribution(bins: &[(String, f64, f64)]) -> Markup {
    let max = bins.iter().map(|(_, b, c)| b.max(*c)).fold(0.0_f64, f64::max).max(1e-9);
    let step = WIDTH / bins.len().max(1) as f64;
    let width = ((step - 2.0) / 2.0).max(0.5);
    let height = |share: f64| (share / max * (HEIGHT - 2.0)).max(if share > 0.0 { 1.0 } else { 0.0 });
    html! {
        svg.distribution viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) preserveAspectRatio="none" role="img" {
            @for (i, (label, baseline, current)) in bins.iter().enumerate() {
                @let x = i as f64 * step + 1.0;
                rect class="bar baseline" x=(format!("{x:.2}")) y=(format!("{:.2}", HEIGHT - height(*baseline)))
                    width=(format!("{width:.2}")) height=(format!("{:.2}", height(*baseline))) {
                    title { (label) ": baseline " (format!("{:.1} %", baseline * 100.0)) }
                }
                rect class="bar" x=(format!("{:.2}", x + width)) y=(format!("{:.2}", HEIGHT - height(*current)))
                    width=(format!("{width:.2}")) height=(format!("{:.2}", height(*current))) {
                    title { (label) ": current " (format!("{:.1} %", current * 100.0)) }
                }
            }
        }
    }
}
