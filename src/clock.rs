//! The wall clock as the files and state write it: one format everywhere, so timestamps sort
//! as text and read the same in a plan file, a state row and a lock holder's description.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// When set, the time every time-dependent rule uses (saved-plan expiry, and the calling rules
/// to come), so a reviewer or a test can ask what would happen at a given moment. Records
/// (state rows, a plan's `createdAt`) keep the wall clock.
pub const NOW_VAR: &str = "CAMPAIGNCTL_NOW";

/// `CAMPAIGNCTL_NOW` that is no time.
#[derive(Debug, thiserror::Error)]
#[error("{NOW_VAR} is {value:?}, not an RFC 3339 time such as 2026-12-04T20:30:00Z")]
pub struct ClockError {
    value: String,
}

/// Now, as RFC 3339 UTC to the second.
pub fn now() -> String {
    format(OffsetDateTime::now_utc())
}

/// `at` as RFC 3339 UTC to the second, the one format of every timestamp.
pub fn format(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    at.replace_nanosecond(0)
        .unwrap_or(at)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// The time the rules use: `CAMPAIGNCTL_NOW` when it is set, the wall clock otherwise.
pub fn rules_now() -> Result<OffsetDateTime, ClockError> {
    match std::env::var(NOW_VAR) {
        Ok(value) if !value.trim().is_empty() => parse(value.trim()).ok_or(ClockError { value }),
        _ => Ok(OffsetDateTime::now_utc()),
    }
}

/// Whether `CAMPAIGNCTL_NOW` stands in for the clock.
pub fn is_pretend() -> bool {
    std::env::var(NOW_VAR).is_ok_and(|value| !value.trim().is_empty())
}

/// The rules' time, the wall clock if `CAMPAIGNCTL_NOW` is malformed (which every command
/// refuses before it gets this far).
pub fn rules_now_or_clock() -> OffsetDateTime {
    rules_now().unwrap_or_else(|_| OffsetDateTime::now_utc())
}

/// `90s`, `30m`, `2h` or `31d`: a whole number and a unit, at least a second.
pub fn parse_duration(text: &str) -> Option<time::Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().ok()?;
    let seconds = n.checked_mul(match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    })?;
    (seconds > 0).then(|| time::Duration::seconds(seconds))
}

/// A day (`2026-11-20`, taken as its start in UTC) or an RFC 3339 time.
pub fn parse_day_or_time(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    parse(text).or_else(|| parse(&format!("{text}T00:00:00Z")))
}

/// An RFC 3339 time.
pub fn parse(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn now_is_rfc3339_utc_to_the_second() {
        let now = super::now();
        assert_eq!(now.len(), "2026-01-01T00:00:00Z".len(), "{now}");
        assert!(now.ends_with('Z'), "{now}");
    }

    #[test]
    fn times_read_back_in_utc() {
        let at = super::parse("2026-12-04T21:30:00+01:00").unwrap();
        assert_eq!(super::format(at), "2026-12-04T20:30:00Z");
        assert!(super::parse("tomorrow").is_none());
    }
}
