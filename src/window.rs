//! Calling windows in each recipient's own time: whether a number may ring now, until when a
//! request holding it may still leave, and when its window next opens. Pure: the time and the
//! zones come in, the answer goes out; the zone rules are the IANA database bundled into the
//! binary, so a plan reads the same on every machine.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use time::OffsetDateTime;

/// The zone libphonenumber gives a number whose zone it does not know.
pub const UNKNOWN_ZONE: &str = "Etc/Unknown";

/// How far ahead a waiting number's opening is looked for: a week covers every window with at
/// least one day, and a longer search only finds zones that never share an open hour.
const SEARCH_DAYS: i64 = 8;

/// Hours on days, in the recipient's local time, with what must be left of them.
#[derive(Debug, Clone, PartialEq)]
pub struct Hours {
    /// Bit `n` set: calls allowed on day `n` (Monday is 0).
    days: u8,
    /// Minutes after local midnight.
    start: u16,
    /// Minutes after local midnight, up to 1440.
    end: u16,
    min_remaining_seconds: i64,
    /// The zone of numbers whose own zone is unknown, if the file names one.
    unknown_zone: Option<(String, TimeZone)>,
}

/// Why calling hours as written cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error("{0:?} is no time of day; write it as HH:MM on the 24-hour clock, e.g. 09:00")]
    Time(String),
    #[error("`end` {end} is not after `start` {start}: the window would be empty")]
    Empty { start: String, end: String },
    #[error("`minRemaining`: {0:?} is no duration; write it as e.g. 1h or 30m")]
    Duration(String),
    #[error(
        "`minRemaining` {min_remaining} is as long as the whole window {start}-{end}: no \
         number could ever be sent"
    )]
    TooLong {
        min_remaining: String,
        start: String,
        end: String,
    },
    #[error("`unknownZone`: {0:?} is not an IANA time zone name such as America/Chicago")]
    Zone(String),
}

/// Whether a number may ring now, by its zones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Inside the window in every zone; a request holding it must leave by `send_by`.
    Open { send_by: OffsetDateTime },
    /// Outside it in at least one zone; it next opens in all of them at `opens` (`None`: not
    /// within a week).
    Waiting { opens: Option<OffsetDateTime> },
    /// Its zone is unknown and the window names no `unknownZone`.
    UnknownZone,
}

impl Hours {
    /// The window of tasks whose campaign declares none: 08:00 to 21:00 every day, an hour left.
    pub fn default_window() -> Hours {
        Hours {
            days: 0x7f,
            start: 8 * 60,
            end: 21 * 60,
            min_remaining_seconds: 3600,
            unknown_zone: None,
        }
    }

    /// Hours as a file writes them; `days` as day indexes (Monday 0), all days when empty.
    pub fn parse(
        days: &[u8],
        start: &str,
        end: &str,
        min_remaining: Option<&str>,
        unknown_zone: Option<&str>,
    ) -> Result<Hours, WindowError> {
        let start_minutes = minutes(start, false)?;
        let end_minutes = minutes(end, true)?;
        if end_minutes <= start_minutes {
            return Err(WindowError::Empty {
                start: start.to_owned(),
                end: end.to_owned(),
            });
        }
        let min_remaining_seconds = match min_remaining {
            None => 3600,
            Some(text) => crate::clock::parse_duration(text)
                .ok_or_else(|| WindowError::Duration(text.to_owned()))?
                .whole_seconds(),
        };
        if min_remaining_seconds >= i64::from(end_minutes - start_minutes) * 60 {
            return Err(WindowError::TooLong {
                min_remaining: min_remaining.unwrap_or("1h").to_owned(),
                start: start.to_owned(),
                end: end.to_owned(),
            });
        }
        let unknown_zone = unknown_zone
            .map(|name| {
                zone(name)
                    .map(|tz| (name.to_owned(), tz))
                    .ok_or_else(|| WindowError::Zone(name.to_owned()))
            })
            .transpose()?;
        Ok(Hours {
            days: if days.is_empty() {
                0x7f
            } else {
                days.iter().fold(0, |set, day| set | (1 << day))
            },
            start: start_minutes,
            end: end_minutes,
            min_remaining_seconds,
            unknown_zone,
        })
    }

    /// `08:00-21:00`, `09:00-17:00 mon-fri`: the window as the plan shows it.
    pub fn describe(&self) -> String {
        const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let clock = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
        let mut text = format!("{}-{}", clock(self.start), clock(self.end));
        if self.days != 0x7f {
            let days: Vec<&str> = (0..7)
                .filter(|day| self.days & (1 << day) != 0)
                .map(|day| NAMES[day])
                .collect();
            text.push(' ');
            text.push_str(&days.join(","));
        }
        let mut notes = Vec::new();
        if self.min_remaining_seconds != 3600 {
            notes.push(format!(
                "{} min left at least",
                self.min_remaining_seconds / 60
            ));
        }
        if let Some((name, _)) = &self.unknown_zone {
            notes.push(format!("unknown zones as {name}"));
        }
        if !notes.is_empty() {
            text.push_str(&format!(" ({})", notes.join(", ")));
        }
        text
    }

    /// Whether a number in `zones` may ring at `now`, and if not, when it may.
    pub fn verdict(&self, zones: &[&str], now: OffsetDateTime) -> Verdict {
        let Some(zones) = self.time_zones(zones) else {
            return Verdict::UnknownZone;
        };
        let now = timestamp(now);
        if let Some(send_by) = self.open_in_all(&zones, now) {
            return Verdict::Open {
                send_by: offset_date_time(send_by),
            };
        }
        // The earliest moment all zones are open is the opening of one of them: each zone's
        // open time is a union of intervals, and an intersection starts at some left end.
        let mut openings: Vec<Timestamp> = zones
            .iter()
            .flat_map(|tz| self.openings(tz, now))
            .filter(|opening| *opening > now)
            .collect();
        openings.sort();
        let opens = openings
            .into_iter()
            .find(|opening| self.open_in_all(&zones, *opening).is_some());
        Verdict::Waiting {
            opens: opens.map(offset_date_time),
        }
    }

    fn time_zones(&self, zones: &[&str]) -> Option<Vec<TimeZone>> {
        zones
            .iter()
            .map(|name| match (*name, &self.unknown_zone) {
                (UNKNOWN_ZONE, Some((_, tz))) => Some(tz.clone()),
                (UNKNOWN_ZONE, None) => None,
                (name, _) => zone(name),
            })
            .collect::<Option<Vec<_>>>()
            .filter(|zones| !zones.is_empty())
    }

    /// The latest moment a request may leave at `at`, if `at` is inside the window in every zone.
    fn open_in_all(&self, zones: &[TimeZone], at: Timestamp) -> Option<Timestamp> {
        zones
            .iter()
            .map(|tz| self.open_until(tz, at))
            .try_fold(None, |earliest: Option<Timestamp>, until| {
                let until = until?;
                Some(Some(earliest.map_or(until, |e| e.min(until))))
            })
            .flatten()
    }

    /// When, if `at` is inside the window of its local day in `tz`, the last chance to send is.
    fn open_until(&self, tz: &TimeZone, at: Timestamp) -> Option<Timestamp> {
        let date = tz.to_datetime(at).date();
        if !self.is_day(date) {
            return None;
        }
        let start = self.at_minutes(tz, date, self.start)?;
        let last = self
            .at_minutes(tz, date, self.end)?
            .as_second()
            .checked_sub(self.min_remaining_seconds)?;
        let last = Timestamp::from_second(last).ok()?;
        (start <= at && at <= last).then_some(last)
    }

    /// The window's starts in `tz` on the days from `now`'s local date on.
    fn openings(&self, tz: &TimeZone, now: Timestamp) -> Vec<Timestamp> {
        let today = tz.to_datetime(now).date();
        (0..SEARCH_DAYS)
            .filter_map(|offset| today.checked_add(jiff::Span::new().days(offset)).ok())
            .filter(|date| self.is_day(*date))
            .filter_map(|date| self.at_minutes(tz, date, self.start))
            .collect()
    }

    fn is_day(&self, date: Date) -> bool {
        let monday_based = date.weekday().to_monday_zero_offset();
        self.days & (1 << monday_based) != 0
    }

    /// The moment local `date` at `minutes` after midnight is in `tz` (1440: the next midnight);
    /// a time a DST change skips is taken as the moment after the gap.
    fn at_minutes(&self, tz: &TimeZone, date: Date, minutes: u16) -> Option<Timestamp> {
        let (date, minutes) = if minutes >= 1440 {
            (date.tomorrow().ok()?, minutes - 1440)
        } else {
            (date, minutes)
        };
        let time = Time::new((minutes / 60) as i8, (minutes % 60) as i8, 0, 0).ok()?;
        tz.to_timestamp(DateTime::from_parts(date, time)).ok()
    }
}

/// Whether `name` is a zone the bundled database knows.
pub fn is_known_zone(name: &str) -> bool {
    zone(name).is_some()
}

fn zone(name: &str) -> Option<TimeZone> {
    jiff::tz::db().get(name).ok()
}

fn minutes(text: &str, allow_midnight: bool) -> Result<u16, WindowError> {
    let bad = || WindowError::Time(text.to_owned());
    let (hours, minutes) = text.split_once(':').ok_or_else(bad)?;
    if hours.len() != 2 || minutes.len() != 2 {
        return Err(bad());
    }
    let hours: u16 = hours.parse().map_err(|_| bad())?;
    let minutes: u16 = minutes.parse().map_err(|_| bad())?;
    let total = hours * 60 + minutes;
    let fits = (hours < 24 && minutes < 60) || (allow_midnight && total == 1440);
    fits.then_some(total).ok_or_else(bad)
}

fn timestamp(at: OffsetDateTime) -> Timestamp {
    Timestamp::from_second(at.unix_timestamp()).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn offset_date_time(at: Timestamp) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(at.as_second()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> OffsetDateTime {
        crate::clock::parse(text).unwrap()
    }

    fn open(by: &str) -> Verdict {
        Verdict::Open { send_by: at(by) }
    }

    fn waiting(opens: &str) -> Verdict {
        Verdict::Waiting {
            opens: Some(at(opens)),
        }
    }

    #[test]
    fn the_default_window_is_eight_to_nine_with_an_hour_left() {
        let window = Hours::default_window();
        let new_york = ["America/New_York"];
        // Friday 2026-11-20: New York is UTC-5 (standard time).
        assert_eq!(
            window.verdict(&new_york, at("2026-11-20T12:59:59Z")),
            waiting("2026-11-20T13:00:00Z")
        );
        assert_eq!(
            window.verdict(&new_york, at("2026-11-20T13:00:00Z")),
            open("2026-11-21T01:00:00Z")
        );
        assert_eq!(
            window.verdict(&new_york, at("2026-11-21T01:00:00Z")),
            open("2026-11-21T01:00:00Z")
        );
        assert_eq!(
            window.verdict(&new_york, at("2026-11-21T01:00:01Z")),
            waiting("2026-11-21T13:00:00Z")
        );
    }

    #[test]
    fn every_us_zone_opens_at_its_own_eight() {
        let window = Hours::default_window();
        let now = at("2026-11-20T12:00:00Z");
        for (zone, opens) in [
            ("America/New_York", "2026-11-20T13:00:00Z"),
            ("America/Chicago", "2026-11-20T14:00:00Z"),
            ("America/Denver", "2026-11-20T15:00:00Z"),
            ("America/Phoenix", "2026-11-20T15:00:00Z"),
            ("America/Los_Angeles", "2026-11-20T16:00:00Z"),
            ("America/Anchorage", "2026-11-20T17:00:00Z"),
            ("Pacific/Honolulu", "2026-11-20T18:00:00Z"),
        ] {
            assert_eq!(window.verdict(&[zone], now), waiting(opens), "{zone}");
        }
        assert_eq!(
            window.verdict(&["Europe/London"], now),
            open("2026-11-20T20:00:00Z")
        );
    }

    #[test]
    fn daylight_saving_moves_the_window_with_the_clock() {
        let window = Hours::default_window();
        let new_york = ["America/New_York"];
        // Saturday 2026-10-31 is still daylight time (UTC-4): 08:00 is 12:00Z.
        assert_eq!(
            window.verdict(&new_york, at("2026-10-31T12:30:00Z")),
            open("2026-11-01T00:00:00Z")
        );
        // Sunday 2026-11-01 after the change (UTC-5): 12:30Z is 07:30, not yet open.
        assert_eq!(
            window.verdict(&new_york, at("2026-11-01T12:30:00Z")),
            waiting("2026-11-01T13:00:00Z")
        );
        // In spring, 2026-03-08: 08:00 daylight time is 12:00Z.
        assert_eq!(
            window.verdict(&new_york, at("2026-03-08T11:30:00Z")),
            waiting("2026-03-08T12:00:00Z")
        );
    }

    #[test]
    fn a_number_of_several_zones_waits_for_all_of_them() {
        let window = Hours::default_window();
        let zones = ["America/New_York", "America/Los_Angeles"];
        assert_eq!(
            window.verdict(&zones, at("2026-11-20T14:00:00Z")),
            waiting("2026-11-20T16:00:00Z")
        );
        // Open in both until New York's last hour begins.
        assert_eq!(
            window.verdict(&zones, at("2026-11-20T16:00:00Z")),
            open("2026-11-21T01:00:00Z")
        );
    }

    #[test]
    fn days_and_unknown_zones() {
        let weekdays = Hours::parse(&[0, 1, 2, 3, 4], "09:00", "17:00", Some("30m"), None).unwrap();
        // Saturday 2026-11-21 in London: waits until Monday 09:00.
        assert_eq!(
            weekdays.verdict(&["Europe/London"], at("2026-11-21T10:00:00Z")),
            waiting("2026-11-23T09:00:00Z")
        );
        assert_eq!(
            weekdays.verdict(&[UNKNOWN_ZONE], at("2026-11-23T10:00:00Z")),
            Verdict::UnknownZone
        );
        let fallback = Hours::parse(&[], "09:00", "17:00", None, Some("Europe/London")).unwrap();
        assert_eq!(
            fallback.verdict(&[UNKNOWN_ZONE], at("2026-11-23T10:00:00Z")),
            open("2026-11-23T16:00:00Z")
        );
        assert_eq!(
            weekdays.describe(),
            "09:00-17:00 mon,tue,wed,thu,fri (30 min left at least)"
        );
    }

    #[test]
    fn zones_that_never_share_an_hour_wait_for_ever() {
        let short = Hours::parse(&[], "09:00", "11:00", None, None).unwrap();
        assert_eq!(
            short.verdict(
                &["Pacific/Honolulu", "Asia/Tokyo"],
                at("2026-11-20T12:00:00Z")
            ),
            Verdict::Waiting { opens: None }
        );
    }

    #[test]
    fn bad_hours_are_refused_with_the_reason() {
        assert_eq!(
            Hours::parse(&[], "20:00", "09:00", None, None),
            Err(WindowError::Empty {
                start: "20:00".into(),
                end: "09:00".into()
            })
        );
        assert!(matches!(
            Hours::parse(&[], "09:00", "09:30", None, None),
            Err(WindowError::TooLong { .. })
        ));
        assert!(matches!(
            Hours::parse(&[], "9:00", "17:00", None, None),
            Err(WindowError::Time(_))
        ));
        assert!(matches!(
            Hours::parse(&[], "09:00", "17:00", Some("soon"), None),
            Err(WindowError::Duration(_))
        ));
        assert!(matches!(
            Hours::parse(&[], "09:00", "17:00", None, Some("Mars/Olympus")),
            Err(WindowError::Zone(_))
        ));
        assert!(Hours::parse(&[], "00:00", "24:00", None, None).is_ok());
    }

    proptest::proptest! {
        /// Whatever the zone, hours and moment: an open verdict holds at that moment in that
        /// zone's local time, and a waiting one opens later, at a moment the verdict calls open.
        #[test]
        fn verdicts_agree_with_the_local_clock(
            zone_index in 0usize..400,
            seconds in 1_700_000_000i64..1_900_000_000,
            start in 0u16..1380,
            length in 61u16..1440,
            days in 1u8..128,
        ) {
            let zones: Vec<&str> = crate::phone::all_zones()
                .filter(|zone| *zone != UNKNOWN_ZONE)
                .collect();
            let zone = zones[zone_index % zones.len()];
            let end = (start + length).min(1440);
            proptest::prop_assume!(end > start + 60);
            let clock = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
            let day_list: Vec<u8> = (0..7).filter(|d| days & (1 << d) != 0).collect();
            let hours = Hours::parse(&day_list, &clock(start), &clock(end), None, None).unwrap();
            let now = OffsetDateTime::from_unix_timestamp(seconds).unwrap();
            let tz = jiff::tz::db().get(zone).unwrap();
            match hours.verdict(&[zone], now) {
                Verdict::Open { send_by } => {
                    proptest::prop_assert!(send_by >= now);
                    let local = tz.to_datetime(timestamp(now));
                    proptest::prop_assert!(hours.is_day(local.date()), "{zone} {local}");
                }
                Verdict::Waiting { opens: Some(opens) } => {
                    proptest::prop_assert!(opens > now);
                    let at_opening = hours.verdict(&[zone], opens);
                    proptest::prop_assert!(
                        matches!(at_opening, Verdict::Open { .. }),
                        "{zone}: opens {opens} but then {at_opening:?}"
                    );
                }
                other => proptest::prop_assert!(false, "{zone}: {other:?}"),
            }
        }
    }

    #[test]
    fn every_zone_of_the_phone_data_is_known() {
        for zone in crate::phone::all_zones() {
            assert!(zone == UNKNOWN_ZONE || is_known_zone(zone), "{zone}");
        }
    }
}
