//! Brute-force protection for sign-in, as Phoenix does it: after `max_attempts` failed sign-ins
//! for one email within the window, that email is refused (429) until the window has passed; a
//! successful sign-in clears its record. Records older than the window are dropped, so memory is
//! bounded by the failures of one window.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Phoenix's window: five minutes.
pub const WINDOW: Duration = Duration::from_secs(300);

/// How many records there may be before stale ones are dropped.
const PRUNE_AT: usize = 1024;

#[derive(Debug)]
struct Record {
    failures: u32,
    first_failure: Instant,
    blocked_until: Option<Instant>,
}

#[derive(Debug)]
pub struct LoginThrottle {
    max_attempts: u32,
    records: Mutex<HashMap<String, Record>>,
}

impl LoginThrottle {
    pub fn new(max_attempts: u32) -> LoginThrottle {
        LoginThrottle { max_attempts: max_attempts.max(1), records: Mutex::new(HashMap::new()) }
    }

    fn records(&self) -> std::sync::MutexGuard<'_, HashMap<String, Record>> {
        self.records.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether `key` is locked out now.
    pub fn is_blocked(&self, key: &str) -> bool {
        let now = Instant::now();
        self.records().get(key).and_then(|record| record.blocked_until).is_some_and(|until| until > now)
    }

    pub fn record_failure(&self, key: &str) {
        let now = Instant::now();
        let mut records = self.records();
        if records.len() >= PRUNE_AT {
            records.retain(|_, record| record.blocked_until.map_or(now - record.first_failure < WINDOW, |until| until > now));
        }
        let record = records.entry(key.to_string()).or_insert(Record { failures: 0, first_failure: now, blocked_until: None });
        record.failures += 1;
        if record.failures >= self.max_attempts {
            record.blocked_until = Some(now + WINDOW);
        }
    }

    pub fn record_success(&self, key: &str) {
        self.records().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_locked_after_max_failures_and_a_success_clears_it() {
        let throttle = LoginThrottle::new(3);
        for _ in 0..2 {
            throttle.record_failure("a@x.com");
        }
        assert!(!throttle.is_blocked("a@x.com"));
        throttle.record_success("a@x.com");
        for _ in 0..3 {
            throttle.record_failure("a@x.com");
        }
        assert!(throttle.is_blocked("a@x.com"));
        assert!(!throttle.is_blocked("b@x.com"), "other emails are not affected");
    }
}
