//! How numbers, durations and times read on the pages.

use chrono::{DateTime, Utc};

/// A duration in milliseconds in the largest sensible unit: "0.42 ms", "123 ms", "1.23 s",
/// "2 m 03 s", "15 h 29 m", "3 d 04 h".
pub fn millis(ms: f64) -> String {
    if !ms.is_finite() || ms < 0.0 {
        return "–".to_string();
    }
    if ms < 1.0 {
        return format!("{ms:.2} ms");
    }
    if ms < 1_000.0 {
        return format!("{ms:.0} ms");
    }
    if ms < 60_000.0 {
        return format!("{:.2} s", ms / 1_000.0);
    }
    let seconds = (ms / 1_000.0).round() as i64;
    match seconds {
        s if s < 3_600 => format!("{} m {:02} s", s / 60, s % 60),
        s if s < 86_400 => format!("{} h {:02} m", s / 3_600, s % 3_600 / 60),
        s => format!("{} d {:02} h", s / 86_400, s % 86_400 / 3_600),
    }
}

/// A duration between two Unix-nanosecond times.
pub fn span_of(start: i64, end: i64) -> String {
    millis(end.saturating_sub(start) as f64 / 1e6)
}

/// An optional latency, "–" when unknown.
pub fn maybe_millis(ms: Option<f64>) -> String {
    ms.map_or_else(|| "–".to_string(), millis)
}

/// A Unix-nanosecond time as UTC, to the second.
pub fn timestamp(nanos: i64) -> String {
    DateTime::<Utc>::from_timestamp_nanos(nanos).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A time for a page: UTC (named) as the server writes it, shown in the browser's own zone,
/// named, once the page's script runs (`time[data-local]`).
pub fn local_time(nanos: i64) -> maud::Markup {
    maud::html! { time datetime=(precise(nanos)) data-local { (timestamp(nanos)) " UTC" } }
}

/// A time as ISO 8601 with milliseconds, for `title` tooltips and `datetime` attributes.
pub fn precise(nanos: i64) -> String {
    DateTime::<Utc>::from_timestamp_nanos(nanos).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// An integer with thin thousands separators: 1 234 567.
pub fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push('\u{202f}');
        }
        grouped.push(digit);
    }
    if n < 0 {
        grouped.insert(0, '-');
    }
    grouped
}

/// `part` of `whole` as a percentage, "–" when there is no whole.
pub fn percent(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "–".to_string();
    }
    let value = part as f64 * 100.0 / whole as f64;
    if value > 0.0 && value < 0.1 {
        "<0.1 %".to_string()
    } else {
        format!("{value:.1} %")
    }
}

/// A size in bytes: "512 B", "1.5 MB", "2.25 GB" (powers of 1,000).
pub fn bytes(n: i64) -> String {
    let n = n.max(0) as f64;
    match n {
        n if n < 1e3 => format!("{n:.0} B"),
        n if n < 1e6 => format!("{:.1} kB", n / 1e3),
        n if n < 1e9 => format!("{:.1} MB", n / 1e6),
        n => format!("{:.2} GB", n / 1e9),
    }
}

/// An amount in US dollars: cents above a dollar, else three significant digits ("$0.00452").
pub fn usd(amount: f64) -> String {
    if !amount.is_finite() {
        return "–".to_string();
    }
    if amount == 0.0 {
        return "$0".to_string();
    }
    if amount.abs() >= 1.0 {
        return format!("${amount:.2}");
    }
    let decimals = (2 - amount.abs().log10().floor() as i32).clamp(2, 12) as usize;
    format!("${amount:.decimals$}")
}

/// An annotation or evaluation score: integers as they are, others to three decimals at most.
pub fn score(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        let text = format!("{value:.3}");
        text.trim_end_matches('0').to_string()
    }
}

/// The first `max` characters of a text on one line, for table cells.
pub fn preview(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_read_with_cents_or_three_significant_digits() {
        assert_eq!(usd(0.0), "$0");
        assert_eq!(usd(12.345), "$12.35");
        assert_eq!(usd(0.0045), "$0.00450");
        assert_eq!(usd(0.25), "$0.250");
        assert_eq!(usd(2.5e-6), "$0.00000250");
        assert_eq!(usd(f64::NAN), "–");
    }

    #[test]
    fn latencies_pick_a_readable_unit() {
        assert_eq!(millis(0.4234), "0.42 ms");
        assert_eq!(millis(123.4), "123 ms");
        assert_eq!(millis(1_234.0), "1.23 s");
        assert_eq!(millis(123_000.0), "2 m 03 s");
        assert_eq!(millis(55_795_000.0), "15 h 29 m", "not 929 m 55 s");
        assert_eq!(millis(273_600_000.0), "3 d 04 h");
        assert_eq!((score(7.0), score(0.25), score(1.0 / 3.0)), ("7".into(), "0.25".into(), "0.333".into()));
        assert_eq!(millis(f64::NAN), "–");
    }

    #[test]
    fn counts_group_thousands_and_previews_cut_on_characters() {
        assert_eq!(count(1_234_567), "1\u{202f}234\u{202f}567");
        assert_eq!(count(-999), "-999");
        assert_eq!(percent(1, 3), "33.3 %");
        assert_eq!(percent(0, 0), "–");
        assert_eq!(preview("héllo\n  wörld", 7), "héllo w…");
    }
}
