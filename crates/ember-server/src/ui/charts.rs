//! Inline SVG charts drawn on the server: time charts with axes and legends, and small bars,
//! sparklines, metric lines and distributions.

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

/// What a chart's values measure: how its axis labels read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Millis,
    Usd,
    Score,
}

impl Unit {
    fn label(self, value: f64) -> String {
        if value == 0.0 {
            return "0".into();
        }
        match self {
            Unit::Count if value.fract() != 0.0 => format::score(value),
            Unit::Count => format::count(value as i64),
            Unit::Millis => format::millis(value),
            Unit::Usd => format::usd(value),
            Unit::Score => format::score(value),
        }
    }
}

/// One named series of a time chart (`None`: no value in that bin).
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// The bins a time chart spans, and where a click on one takes the reader (its zoom).
pub struct TimeAxis<'a> {
    pub start: i64,
    pub bin_nanos: i64,
    pub bins: usize,
    /// Where the axis ends (now, for a window ending now): the last bin is drawn up to here.
    pub end: i64,
    /// The page to zoom into a bin: `{from}` and `{to}` are replaced by its edges (nanoseconds).
    pub zoom_href: &'a str,
}

const CHART_W: f64 = 640.0;
const CHART_H: f64 = 200.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 24.0;

/// A chart of series over time with its axes: values up the left with the unit's labels, time
/// along the bottom (written in UTC, shown in the reader's zone), a legend naming each series,
/// one bar per bin for a single series of counts or a line per series otherwise, and each bin
/// a link zooming into it. The time axis ends at `axis.end`: nothing is drawn past it.
pub fn time_chart(id: &str, series: &[Series], axis: &TimeAxis<'_>, unit: Unit, bars: bool) -> Markup {
    let plot_w = CHART_W - LEFT - RIGHT;
    let plot_h = CHART_H - TOP - BOTTOM;
    let max = series.iter().flat_map(|s| s.values.iter().flatten()).copied().fold(0.0_f64, f64::max);
    let top = nice_ceiling(max);
    let edge = |i: usize| (axis.start + i as i64 * axis.bin_nanos).min(axis.end);
    let span = (axis.end - axis.start).max(1) as f64;
    let x = |i: usize| LEFT + (edge(i) - axis.start) as f64 / span * plot_w;
    let width = |i: usize| x(i + 1) - x(i);
    let y = |v: f64| TOP + plot_h - v / top * plot_h;
    html! {
        figure.time-chart #(id) {
            svg viewBox=(format!("0 0 {CHART_W} {CHART_H}")) role="img" {
                @for tick in [0.0, top / 2.0, top] {
                    line.grid x1=(LEFT) x2=(CHART_W - RIGHT) y1=(format!("{:.1}", y(tick))) y2=(format!("{:.1}", y(tick))) {}
                    text.axis x=(LEFT - 6.0) y=(format!("{:.1}", y(tick) + 4.0)) text-anchor="end" { (unit.label(tick)) }
                }
                @for i in [0, axis.bins / 2, axis.bins] {
                    text.axis x=(format!("{:.1}", x(i))) y=(CHART_H - 6.0) text-anchor=(match i { 0 => "start", n if n == axis.bins => "end", _ => "middle" })
                        data-local-short=(format::precise(edge(i))) { (format::timestamp(edge(i))) }
                }
                line.axis-line x1=(LEFT) x2=(LEFT) y1=(TOP) y2=(TOP + plot_h) {}
                line.axis-line x1=(LEFT) x2=(CHART_W - RIGHT) y1=(TOP + plot_h) y2=(TOP + plot_h) {}
                @if bars {
                    @if let Some(first) = series.first() {
                        @for (i, value) in first.values.iter().enumerate() {
                            @if let Some(v) = value.filter(|v| *v > 0.0) {
                                rect.bar x=(format!("{:.2}", x(i) + 0.5)) y=(format!("{:.2}", y(v))) width=(format!("{:.2}", (width(i) - 1.0).max(0.5)))
                                    height=(format!("{:.2}", (TOP + plot_h - y(v)).max(1.0))) {}
                            }
                        }
                    }
                } @else {
                    @for (n, s) in series.iter().enumerate() {
                        path class=(format!("series s{}", n % 6)) d=(line_path(&s.values, |i, v| (x(i) + width(i) / 2.0, y(v)))) {}
                        @for (i, value) in s.values.iter().enumerate() {
                            @if let Some(v) = value { circle class=(format!("point s{}", n % 6)) cx=(format!("{:.2}", x(i) + width(i) / 2.0)) cy=(format!("{:.2}", y(*v))) r="2" {} }
                        }
                    }
                }
                // Each bin: its values on hover, and a click zooms into it.
                @for i in 0..axis.bins {
                    a href=(axis.zoom_href.replace("{from}", &edge(i).to_string()).replace("{to}", &edge(i + 1).to_string())) {
                        rect.hit x=(format!("{:.2}", x(i))) y=(TOP) width=(format!("{:.2}", width(i))) height=(plot_h) {
                            title {
                                (format::timestamp(edge(i))) " UTC, " (format::millis(axis.bin_nanos as f64 / 1e6)) ":"
                                @for s in series { " " (s.name) " " (s.values.get(i).copied().flatten().map_or_else(|| "–".to_string(), |v| unit.label(v))) ";" }
                            }
                        }
                    }
                }
            }
            @if series.len() > 1 || (!bars && !series.is_empty()) {
                figcaption.legend {
                    @for (n, s) in series.iter().enumerate() { span.key { i class=(format!("swatch s{}", n % 6)) {} (s.name) } }
                }
            }
        }
    }
}

/// A round number at or above `value` for the top of an axis (1, 2 or 5 times a power of ten).
fn nice_ceiling(value: f64) -> f64 {
    if value <= 0.0 || !value.is_finite() {
        return 1.0;
    }
    let power = 10_f64.powf(value.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * power).find(|candidate| *candidate >= value * (1.0 - 1e-12)).unwrap_or(10.0 * power)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_top_out_at_round_numbers() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(120.0), 200.0);
        assert_eq!(nice_ceiling(2.0), 2.0);
        assert!((nice_ceiling(0.0031) - 0.005).abs() < 1e-12);
    }

    #[test]
    fn a_chart_has_axes_a_legend_and_a_zoom_link_per_bin_and_nothing_past_its_end() {
        let axis = TimeAxis {
            start: 0,
            bin_nanos: 3_600_000_000_000,
            bins: 3,
            end: 3 * 3_600_000_000_000 - 1_800_000_000_000,
            zoom_href: "/m?from={from}&to={to}",
        };
        let series = [
            Series { name: "p50".into(), values: vec![Some(10.0), None, Some(30.0)] },
            Series { name: "p99".into(), values: vec![Some(90.0), None, Some(120.0)] },
        ];
        let html = time_chart("latency", &series, &axis, Unit::Millis, false).into_string();
        assert!(html.contains(">200 ms<") && html.contains(">0<"), "the value axis in the unit: {html}");
        assert!(html.contains("1970-01-01 00:00:00") && html.contains("1970-01-01 02:30:00"), "the time axis ends at its end");
        assert!(!html.contains("1970-01-01 03:00:00"), "nothing past the end: {html}");
        assert_eq!(html.matches("class=\"hit\"").count(), 3);
        assert!(html.contains("href=\"/m?from=3600000000000&amp;to=7200000000000\""), "{html}");
        assert!(html.contains("class=\"legend\"") && html.contains("p99"));
    }
}
