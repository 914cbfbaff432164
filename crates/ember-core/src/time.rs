//! Timestamps are stored as Unix nanoseconds (`i64`) and shown as RFC 3339 in UTC.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

/// Formats Unix nanoseconds as Phoenix does: UTC, microsecond precision, `+00:00` offset.
pub fn format_nanos(nanos: i64) -> String {
    to_datetime(nanos).to_rfc3339_opts(SecondsFormat::Micros, false)
}

pub fn to_datetime(nanos: i64) -> DateTime<Utc> {
    Utc.timestamp_nanos(nanos)
}

/// Parses an ISO 8601 / RFC 3339 timestamp; a value without an offset is taken as UTC,
/// as Phoenix does for naive datetimes.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(parsed) = DateTime::parse_from_rfc3339(text) {
        return parsed.timestamp_nanos_opt();
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(naive) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return naive.and_utc().timestamp_nanos_opt();
        }
    }
    if let Ok(with_space_offset) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z") {
        return with_space_offset.timestamp_nanos_opt();
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .and_then(|naive| naive.and_utc().timestamp_nanos_opt())
}

/// A timestamp that must carry its offset (`Z` or `+hh:mm`), as Phoenix 20 requires where spans
/// are created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZonedTimestamp {
    /// Nanoseconds since the epoch.
    Aware(i64),
    /// A valid time without a timezone.
    Naive,
    /// Not a timestamp.
    Invalid,
}

pub fn parse_zoned_timestamp(text: &str) -> ZonedTimestamp {
    let trimmed = text.trim();
    let aware = DateTime::parse_from_rfc3339(trimmed).or_else(|_| DateTime::parse_from_str(trimmed, "%Y-%m-%d %H:%M:%S%.f%:z"));
    match (aware, parse_timestamp(trimmed)) {
        (Ok(parsed), _) => parsed.timestamp_nanos_opt().map_or(ZonedTimestamp::Invalid, ZonedTimestamp::Aware),
        (Err(_), Some(_)) => ZonedTimestamp::Naive,
        (Err(_), None) => ZonedTimestamp::Invalid,
    }
}

pub fn now_nanos() -> i64 {
    Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_phoenix() {
        assert_eq!(format_nanos(1_700_000_000_123_456_789), "2023-11-14T22:13:20.123456+00:00");
    }

    #[test]
    fn parses_offsets_and_naive_times_as_utc() {
        let utc = parse_timestamp("2023-11-14T22:13:20Z").unwrap();
        assert_eq!(parse_timestamp("2023-11-14T22:13:20"), Some(utc));
        assert_eq!(parse_timestamp("2023-11-15T00:13:20+02:00"), Some(utc));
        assert_eq!(parse_timestamp("2023-11-14 22:13:20+00:00"), Some(utc));
        assert_eq!(parse_timestamp("yesterday"), None);
    }
}
