//! The wall clock as the files and state write it: one format everywhere, so timestamps sort
//! as text and read the same in a plan file, a state row and a lock holder's description.

/// Now, as RFC 3339 UTC to the second.
pub fn now() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(0)
        .unwrap_or(now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn now_is_rfc3339_utc_to_the_second() {
        let now = super::now();
        assert_eq!(now.len(), "2026-01-01T00:00:00Z".len(), "{now}");
        assert!(now.ends_with('Z'), "{now}");
    }
}
