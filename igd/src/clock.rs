//! Time: integer microseconds inside igd and the audit log, RFC 3339 UTC on the wire.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Microseconds since the epoch.
pub fn now_us() -> i64 {
    let ns = OffsetDateTime::now_utc().unix_timestamp_nanos();
    i64::try_from(ns / 1000).unwrap_or(i64::MAX)
}

/// Seconds since the epoch.
pub fn now_secs() -> u64 {
    u64::try_from(OffsetDateTime::now_utc().unix_timestamp()).unwrap_or(0)
}

/// RFC 3339 UTC text of a microsecond timestamp (second precision when whole).
pub fn rfc3339(us: i64) -> String {
    let ns = i128::from(us) * 1000;
    OffsetDateTime::from_unix_timestamp_nanos(ns)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_string())
}

/// Parse RFC 3339 text into microseconds since the epoch.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        let us = 1_764_000_000_123_456;
        assert_eq!(parse_rfc3339(&rfc3339(us)), Some(us));
    }
}
