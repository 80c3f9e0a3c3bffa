//! Times as docker's front ends take and show them, on `jiff`: the
//! `--since`/`--until` forms of `logs` and `events` (and the API's `since`
//! and `until` query parameters), RFC 3339 as the state records it, and
//! Go's `time.String()` that docker's `CreatedAt` shows. (The runtime and
//! the shim only format the current time, with `hull_spec::time`.)

use crate::error::{EngineError, Result};
use jiff::{civil, tz::TimeZone, SignedDuration, Timestamp};

/// Now, in nanoseconds since the epoch.
pub fn now_nanos() -> i64 {
    Timestamp::now().as_nanosecond() as i64
}

/// An RFC 3339 time (any offset) in nanoseconds since the epoch.
pub fn rfc3339_nanos(s: &str) -> Option<i64> {
    s.parse::<Timestamp>().ok().map(|t| t.as_nanosecond() as i64)
}

/// An RFC 3339 time in seconds since the epoch.
pub fn rfc3339_secs(s: &str) -> Option<i64> {
    s.parse::<Timestamp>().ok().map(|t| t.as_second())
}

/// Nanoseconds since the epoch as RFC 3339 in UTC, nanoseconds shown.
pub fn format_nanos(nanos: i64) -> String {
    match Timestamp::from_nanosecond(i128::from(nanos)) {
        Ok(t) => t.strftime("%Y-%m-%dT%H:%M:%S.%9fZ").to_string(),
        Err(_) => "0001-01-01T00:00:00Z".into(),
    }
}

/// Go's `time.String()` of an RFC 3339 time, in UTC
/// (`2006-01-02 15:04:05 +0000 UTC`), as docker's `CreatedAt` shows it.
pub fn go_string(rfc3339: &str) -> String {
    match rfc3339.parse::<Timestamp>() {
        Ok(t) => t.strftime("%Y-%m-%d %H:%M:%S +0000 UTC").to_string(),
        Err(_) => rfc3339.to_string(),
    }
}

/// A `--since`/`--until` value (docker's `timetypes.GetTimestamp`) in
/// nanoseconds since the epoch, `now` being `now`:
/// - Unix seconds, with a fraction (`1700000000.5`);
/// - a Go duration back from now (`10m`, `1h30m`, `1.5h`, `500ms`);
/// - RFC 3339 with `Z` or an offset, to the nanosecond;
/// - a date, or a date and time without a zone, in the host's zone
///   (`2026-12-01`, `2026-12-01T10:00`, `2026-12-01T10:00:00.5`);
/// - `now`.
pub fn parse_arg(flag: &str, s: &str, now: i64) -> Result<i64> {
    let bad = || {
        EngineError::Invalid(format!(
            "invalid value for {flag}: {s:?} (want RFC 3339, unix seconds, or a duration like 10m)"
        ))
    };
    let s = s.trim();
    if s == "now" {
        return Ok(now);
    }
    if let Some(n) = unix(s) {
        return Ok(n);
    }
    if let Ok(d) = crate::units::parse_duration(flag, s) {
        return Ok(now - d);
    }
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t.as_nanosecond() as i64);
    }
    let zoned =
        |dt: civil::DateTime| dt.to_zoned(TimeZone::system()).ok().map(|z| z.timestamp().as_nanosecond() as i64);
    if let Ok(dt) = s.parse::<civil::DateTime>() {
        return zoned(dt).ok_or_else(bad);
    }
    if let Ok(d) = s.parse::<civil::Date>() {
        return zoned(d.to_datetime(civil::Time::midnight())).ok_or_else(bad);
    }
    Err(bad())
}

/// `SECS[.FRACTION]`.
fn unix(s: &str) -> Option<i64> {
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    if secs.is_empty() || !secs.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = format!("{frac:0<9}");
    let secs: i64 = secs.parse().ok()?;
    secs.checked_mul(1_000_000_000)?.checked_add(digits.get(..9)?.parse().ok()?)
}

/// Seconds between two RFC 3339 times (0 when either is not one).
pub fn seconds_between(from: &str, to_nanos: i64) -> i64 {
    let Some(from) = rfc3339_nanos(from) else { return 0 };
    SignedDuration::from_nanos(to_nanos - from).as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000_000_000;

    #[test]
    fn dockers_forms() {
        let p = |s: &str| parse_arg("--since", s, NOW).unwrap();
        assert_eq!(p("now"), NOW);
        assert_eq!(p("1700000000"), 1_700_000_000_000_000_000);
        assert_eq!(p("1700000000.25"), 1_700_000_000_250_000_000);
        assert_eq!(p("10m"), NOW - 600_000_000_000);
        assert_eq!(p("1h30m"), NOW - 5_400_000_000_000);
        assert_eq!(p("1.5h"), NOW - 5_400_000_000_000);
        assert_eq!(p("2026-12-01T10:00:00Z"), rfc3339_nanos("2026-12-01T10:00:00Z").unwrap());
        assert_eq!(p("2026-12-01T11:00:00+01:00"), p("2026-12-01T10:00:00Z"));
        assert_eq!(p("2026-12-01T10:00:00.000000007Z") - p("2026-12-01T10:00:00Z"), 7);
        // Without a zone: the host's (UTC on CI machines, but not assumed).
        let local = TimeZone::system();
        let want = civil::date(2026, 12, 1).at(0, 0, 0, 0).to_zoned(local).unwrap().timestamp().as_nanosecond() as i64;
        assert_eq!(p("2026-12-01"), want);
        assert_eq!(p("2026-12-01T00:00"), want);
        for bad in ["yesterday", "10x", "", "2026-13-01", "-5"] {
            assert!(parse_arg("--since", bad, NOW).is_err(), "{bad}");
        }
    }

    #[test]
    fn formats() {
        assert_eq!(format_nanos(5), "1970-01-01T00:00:00.000000005Z");
        assert_eq!(format_nanos(1_000_000_000), "1970-01-01T00:00:01.000000000Z");
        assert_eq!(go_string("2026-11-18T11:06:40.5Z"), "2026-11-18 11:06:40 +0000 UTC");
        assert_eq!(rfc3339_secs("1970-01-02T00:00:00Z"), Some(86_400));
        assert_eq!(seconds_between("1970-01-01T00:00:00Z", 90_000_000_000), 90);
    }
}
