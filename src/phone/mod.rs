//! Phone numbers: reading written numbers as E.164, checking them against libphonenumber's
//! number ranges, and knowing each one's type and time zones, behind a small interface so the
//! library can change.
//!
//! A number is dialed only when libphonenumber's full validity check passes for the region it
//! belongs to, unless its source opted out (`check: possible-length`); see docs/decisions.md,
//! "Expansion".

mod fast;
mod pattern;
mod types;
mod zones;

use std::collections::HashMap;
use std::fmt;
use std::sync::{LazyLock, Mutex};

use rlibphonenumber::{
    NumberLengthType, PHONE_NUMBER_UTIL, ParseError, PhoneNumber, Region, ValidationError,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use types::{Dialed, NumberType, TypeCounts};
pub use zones::{ZoneSet, all_zones};

/// A phone number in E.164 form, kept as its digits. E.164 numbers have at most 15 digits and
/// never start with 0 (no country calling code does), so a `u64` holds them exactly; hashing
/// and comparing them is cheap, which matters when a campaign holds a million of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct E164(u64);

impl E164 {
    /// The digits without `+`, as the provider's `userPhone` takes them.
    pub fn digits(self) -> String {
        // Without the formatting machinery of `to_string`: one of these per number dialed.
        itoa::Buffer::new().format(self.0).to_owned()
    }
}

/// `+` and the digits.
impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "+{}", self.0)
    }
}

/// How strictly a source's numbers are checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// The number must be in a range libphonenumber knows to be allocated in its country.
    #[default]
    Full,
    /// Only its length must be possible for its country: for numbers of a range so new that
    /// the phone-number metadata does not know it yet. The plan counts numbers accepted so.
    PossibleLength,
}

impl Check {
    pub fn is_full(&self) -> bool {
        *self == Check::Full
    }
}

/// What a source's numbers must be to be dialed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rules {
    pub check: Check,
    pub dialed: Dialed,
}

impl Rules {
    /// The rules of a list of numbers never to dial: anything of the right length counts, so
    /// that no number a lenient source could dial escapes its do-not-call list.
    pub fn exclusions() -> Self {
        Rules {
            check: Check::PossibleLength,
            dialed: Dialed::listed(&NumberType::ALL),
        }
    }
}

/// A number read and checked: its E.164 form, its type and its time zones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Number {
    pub e164: E164,
    pub facts: Facts,
}

/// What is known about a number besides its digits, in four bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Facts {
    /// [`NumberType::Unknown`] only for numbers accepted by `check: possible-length` that the
    /// full check would refuse.
    pub kind: NumberType,
    pub zones: ZoneSet,
}

/// Why a written number was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneError {
    /// Nothing but whitespace.
    Empty,
    /// No phone number can be read from the text.
    NotANumber,
    /// Written with `+` (or an international prefix), followed by no known country calling code.
    UnknownCallingCode,
    /// Fewer digits than any number of its country has.
    TooShort,
    /// More digits than any number of its country has.
    TooLong,
    /// A length between the shortest and longest of its country, that no number there has.
    InvalidLength,
    /// A local number that cannot be dialed without its area code.
    LocalOnly,
    /// Has an extension, which a call task cannot dial.
    Extension,
    /// Has letters. libphonenumber reads letters as keypad digits (`1-800-FLOWERS`), which
    /// would turn a typo such as `O` for `0` into another person's number.
    Letters,
    /// A valid number of another country, written without `+`: with an international prefix
    /// such as `00` or `011`, or in another country's form. Taken as a mistake in a source of
    /// numbers to dial, taken as it is in a list of numbers to exclude.
    OtherCountry { number: E164 },
    /// The task's country is no region the normalizer knows.
    UnknownCountry,
    /// Read as a number whose national part starts with its country's trunk prefix `0`:
    /// libphonenumber keeps the prefix when stripping it would leave too few digits, as in
    /// `07700 9001`, which no number of the country is.
    TrunkPrefixKept {
        number: E164,
        calling_code: u16,
        region: String,
    },
    /// A possible length, but in no range the metadata knows to be allocated.
    NotInRange { number: E164, region: String },
    /// A valid number of a type the campaign does not dial.
    Refused { kind: NumberType, why: String },
}

impl PhoneError {
    /// The message about `raw`, a number written for a task whose country is `country`.
    /// `show`: whether the numbers the message names are shown in full (masked otherwise).
    pub fn message(&self, raw: &str, country: &str, show: bool) -> String {
        match self {
            PhoneError::Empty => "empty phone number".to_owned(),
            PhoneError::OtherCountry { .. } | PhoneError::Refused { .. } => {
                format!("phone number {raw:?}: {}", self.reason(country, show))
            }
            _ => format!(
                "invalid phone number {raw:?}: {}",
                self.reason(country, show)
            ),
        }
    }

    /// What is wrong, as the end of a sentence about the number: `too short for GB`.
    fn reason(&self, country: &str, show: bool) -> String {
        let shown = |number: &E164| crate::diagnostic::excerpt(&number.to_string(), show);
        match self {
            PhoneError::Empty => "the value is empty".to_owned(),
            PhoneError::NotANumber => "it is not a phone number".to_owned(),
            PhoneError::UnknownCallingCode => "no country has that calling code".to_owned(),
            PhoneError::TooShort => format!("too short for a number of {country}"),
            PhoneError::TooLong => format!("too long for a number of {country}"),
            PhoneError::InvalidLength => format!("no number of {country} has that many digits"),
            PhoneError::LocalOnly => "a local number; write it with its area code".to_owned(),
            PhoneError::Extension => {
                "it has an extension, which a call task cannot dial; remove it".to_owned()
            }
            PhoneError::Letters => "it has letters; write phone numbers with digits".to_owned(),
            PhoneError::OtherCountry { number } => format!(
                "it is a number of {} ({}), not of the task's country {country}; write it as {} \
                 if it is meant",
                region_of(*number).unwrap_or_else(|| "another country".to_owned()),
                shown(number),
                shown(number),
            ),
            PhoneError::UnknownCountry => format!("{country} is not a known country code"),
            PhoneError::TrunkPrefixKept {
                number,
                calling_code,
                region,
            } => format!(
                "no {region} number starts with {calling_code} 0… (it reads as {}): \
                 without its trunk prefix 0 it has too few or too many digits for {region}; \
                 check for a missing or extra digit",
                shown(number)
            ),
            PhoneError::NotInRange { number, region } => format!(
                "{} is not in any allocated {region} range; check the digits (for a \
                 range newer than the phone-number metadata, add `check: possible-length` to \
                 the source)",
                shown(number)
            ),
            PhoneError::Refused { why, .. } => why.clone(),
        }
    }
}

/// Reads written phone numbers.
pub trait PhoneNormalizer: Sync {
    /// Whether `country` is a two-letter region code that numbers can be read for.
    fn is_known_region(&self, country: &str) -> bool;

    /// Reads `raw`, written by someone in `country`: numbers without a country code belong to
    /// `country`; numbers with `+` may belong to any country; a number of another country
    /// written without `+` is [`PhoneError::OtherCountry`]. The number must pass `rules`.
    fn read(&self, raw: &str, country: &str, rules: &Rules) -> Result<Number, PhoneError>;
}

/// The normalizer campaignctl uses: rlibphonenumber, a port of Google's libphonenumber.
#[derive(Debug, Clone, Copy, Default)]
pub struct LibPhoneNumber;

impl PhoneNormalizer for LibPhoneNumber {
    fn is_known_region(&self, country: &str) -> bool {
        // From the fast path's metadata: asking rlibphonenumber would build its regular
        // expressions, most of the time `validate` of a small repository takes.
        fast::is_known_region(country)
    }

    fn read(&self, raw: &str, country: &str, rules: &Rules) -> Result<Number, PhoneError> {
        let text = raw.trim();
        match fast::read(text, country) {
            Some(Ok(found)) => {
                let valid =
                    found.kind != NumberType::Unknown || rules.check == Check::PossibleLength;
                if valid && rules.dialed.allows(found.kind) {
                    return Ok(number(found.e164, found.calling_code, found.kind));
                }
                // Refused by the rules: rlibphonenumber's reading says why in full.
            }
            Some(Err(err)) => return Err(err),
            None => {}
        }
        read_slowly(text, country, rules)
    }
}

/// The whole of libphonenumber's reading: what the fast path leaves to it, and the reference
/// the fast path is held to.
fn read_slowly(text: &str, country: &str, rules: &Rules) -> Result<Number, PhoneError> {
    if text.is_empty() {
        return Err(PhoneError::Empty);
    }
    let (Ok(region), Some(country_code)) = (Region::from_code(country), calling_code(country))
    else {
        return Err(PhoneError::UnknownCountry);
    };
    let number = PHONE_NUMBER_UTIL
        .parse(text, Some(region))
        .map_err(|err| match err {
            ParseError::InvalidCountryCode => PhoneError::UnknownCallingCode,
            ParseError::TooShortAfterIdd | ParseError::TooShortNsn => PhoneError::TooShort,
            ParseError::TooLongNsn => PhoneError::TooLong,
            ParseError::NotANumber(_) => PhoneError::NotANumber,
        })?;
    if number
        .extension
        .as_deref()
        .is_some_and(|ext| !ext.is_empty())
    {
        return Err(PhoneError::Extension);
    }
    if text.bytes().any(|b| b.is_ascii_alphabetic())
        || (!text.is_ascii() && text.chars().any(char::is_alphabetic))
    {
        return Err(PhoneError::Letters);
    }
    match PHONE_NUMBER_UTIL.is_possible_number_with_reason(&number) {
        Ok(NumberLengthType::IsPossible) => {}
        Ok(NumberLengthType::IsPossibleLocalOnly) => return Err(PhoneError::LocalOnly),
        Err(ValidationError::TooShort) => return Err(PhoneError::TooShort),
        Err(ValidationError::TooLong) => return Err(PhoneError::TooLong),
        Err(ValidationError::InvalidLength) => return Err(PhoneError::InvalidLength),
        Err(ValidationError::InvalidCountryCode) => return Err(PhoneError::UnknownCallingCode),
    }
    // Every possible number fits; a longer one would be no E.164 number at all.
    let e164 = e164_of(&number).ok_or(PhoneError::TooLong)?;
    if number.country_code != country_code && !written_with_plus(text) {
        return Err(PhoneError::OtherCountry { number: e164 });
    }
    let kind = NumberType::from_lib(PHONE_NUMBER_UTIL.get_number_type(&number));
    let calling_code = u16::try_from(number.country_code).unwrap_or_default();
    checked(e164, calling_code, kind, rules, || {
        invalidity(&number, e164)
    })
}

/// Applies `rules` to a number read as `e164` of type `kind` ([`NumberType::Unknown`] when
/// the full check refuses it; `invalid` then says why).
fn checked(
    e164: E164,
    calling_code: u16,
    kind: NumberType,
    rules: &Rules,
    invalid: impl FnOnce() -> PhoneError,
) -> Result<Number, PhoneError> {
    if kind == NumberType::Unknown && rules.check == Check::Full {
        return Err(invalid());
    }
    if !rules.dialed.allows(kind) {
        return Err(PhoneError::Refused {
            kind,
            why: rules.dialed.refusal(kind),
        });
    }
    Ok(number(e164, calling_code, kind))
}

fn number(e164: E164, calling_code: u16, kind: NumberType) -> Number {
    Number {
        e164,
        facts: Facts {
            kind,
            zones: zones::zones_of(e164, calling_code, kind),
        },
    }
}

/// Why a possible number is not valid, in the terms of what the writer can fix.
fn invalidity(number: &PhoneNumber, e164: E164) -> PhoneError {
    let region = PHONE_NUMBER_UTIL
        .get_region_for_number(number)
        .or_else(|| PHONE_NUMBER_UTIL.get_region_for_country_code(number.country_code));
    let Some(region) = region else {
        return PhoneError::UnknownCallingCode;
    };
    let kept_zero = number.italian_leading_zero == Some(true);
    if kept_zero && !has_leading_zero_numbers(region) {
        return PhoneError::TrunkPrefixKept {
            number: e164,
            calling_code: u16::try_from(number.country_code).unwrap_or_default(),
            region: region.to_string(),
        };
    }
    PhoneError::NotInRange {
        number: e164,
        region: region.to_string(),
    }
}

/// Whether numbers of `region` may start with 0 after the calling code (Italy's do): judged by
/// libphonenumber's example number of each type. Remembered per region, as a list of a million
/// bad numbers would ask a million times.
fn has_leading_zero_numbers(region: Region) -> bool {
    static KNOWN: LazyLock<Mutex<HashMap<String, bool>>> = LazyLock::new(Mutex::default);
    let key = region.to_string();
    if let Some(known) = KNOWN.lock().ok().and_then(|known| known.get(&key).copied()) {
        return known;
    }
    let answer = NumberType::ALL
        .into_iter()
        .filter_map(|kind| {
            PHONE_NUMBER_UTIL
                .get_example_number_for_type_and_region(region, kind.to_lib())
                .ok()
        })
        .any(|example| example.italian_leading_zero == Some(true));
    if let Ok(mut known) = KNOWN.lock() {
        known.insert(key, answer);
    }
    answer
}

/// Whether `code` is a two-letter region the phone-number metadata knows, such as `HK`.
pub fn is_known_region(code: &str) -> bool {
    LibPhoneNumber.is_known_region(code)
}

/// The E.164 form of a parsed number: its calling code, then its national significant number
/// (which keeps leading zeros, as Italian numbers have). Computed rather than formatted and
/// read back, which matters at a million numbers; a test holds it to libphonenumber's E.164
/// formatting for the example number of every region.
fn e164_of(number: &PhoneNumber) -> Option<E164> {
    let zeros = match number.italian_leading_zero {
        Some(true) => number
            .number_of_leading_zeros
            .unwrap_or(1)
            .max(0)
            .unsigned_abs(),
        _ => 0,
    };
    let national = number.national_number;
    let digits = zeros + national.checked_ilog10().map_or(1, |log| log + 1);
    let code = u64::try_from(number.country_code).ok()?;
    code.checked_mul(10u64.checked_pow(digits)?)?
        .checked_add(national)
        .map(E164)
}

fn calling_code(country: &str) -> Option<i32> {
    let region = Region::from_code(country).ok()?;
    PHONE_NUMBER_UTIL.get_country_code_for_region(region)
}

/// The main region of a number's calling code, for messages: `GB` for +44.
fn region_of(number: E164) -> Option<String> {
    let parsed = PHONE_NUMBER_UTIL.parse(number.to_string(), None).ok()?;
    let region = PHONE_NUMBER_UTIL.get_region_for_country_code(parsed.country_code)?;
    Some(region.to_string())
}

/// Whether the number's first sign is a plus (libphonenumber also reads the full-width one),
/// that is, whether its writer chose its country explicitly.
fn written_with_plus(text: &str) -> bool {
    text.chars()
        .find(|c| c.is_numeric() || matches!(c, '+' | '＋'))
        .is_some_and(|c| !c.is_numeric())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn norm(raw: &str, country: &str) -> Result<String, PhoneError> {
        read(raw, country, &Rules::default()).map(|number| number.e164.digits())
    }

    fn read(raw: &str, country: &str, rules: &Rules) -> Result<Number, PhoneError> {
        LibPhoneNumber.read(raw, country, rules)
    }

    fn lenient() -> Rules {
        Rules {
            check: Check::PossibleLength,
            ..Rules::default()
        }
    }

    #[test]
    fn common_formats_normalize_to_the_same_digits() {
        for raw in [
            "020 7946 0123",
            "020-7946-0123",
            "(020) 7946 0123",
            "(0)20 7946 0123",
            "+44 20 7946 0123",
            "+44 (0) 20 7946 0123",
            "+44 020 7946 0123",
            "0044 20 7946 0123",
            "442079460123",
            "2079460123",
            "  020.7946.0123  ",
        ] {
            assert_eq!(norm(raw, "GB"), Ok("442079460123".into()), "{raw}");
        }
        for raw in [
            "(202) 555-0123",
            "202.555.0123",
            "1 202 555 0123",
            "+1-202-555-0123",
            "011 1 202 555 0123",
        ] {
            assert_eq!(norm(raw, "US"), Ok("12025550123".into()), "{raw}");
        }
        assert_eq!(norm("0491 570 156", "AU"), Ok("61491570156".into()));
    }

    #[test]
    fn numbers_with_plus_keep_their_country() {
        assert_eq!(norm("+1 202 555 0117", "GB"), Ok("12025550117".into()));
        assert_eq!(norm("+44 20 7946 0100", "US"), Ok("442079460100".into()));
    }

    #[test]
    fn numbers_of_another_country_without_plus_are_refused() {
        let err = read("011 44 20 7946 0100", "US", &Rules::default()).unwrap_err();
        assert_eq!(
            err,
            PhoneError::OtherCountry {
                number: E164(442_079_460_100)
            }
        );
        let text = err.message("011 44 20 7946 0100", "US", true);
        assert_eq!(
            text,
            "phone number \"011 44 20 7946 0100\": it is a number of GB (+442079460100), not \
             of the task's country US; write it as +442079460100 if it is meant"
        );
        let text = PhoneError::TooShort.message("123", "GB", true);
        assert_eq!(
            text,
            "invalid phone number \"123\": too short for a number of GB"
        );
    }

    #[test]
    fn bad_numbers_say_why() {
        assert_eq!(norm("", "GB"), Err(PhoneError::Empty));
        assert_eq!(norm("   ", "GB"), Err(PhoneError::Empty));
        assert_eq!(norm("call me", "GB"), Err(PhoneError::NotANumber));
        assert_eq!(
            norm("+999 123 456", "GB"),
            Err(PhoneError::UnknownCallingCode)
        );
        assert_eq!(norm("123", "GB"), Err(PhoneError::TooShort));
        assert_eq!(norm("020 7946 0123 4567", "GB"), Err(PhoneError::TooLong));
        assert_eq!(norm("555-0123", "US"), Err(PhoneError::LocalOnly));
        assert_eq!(
            norm("+44 20 7946 0123 ext. 12", "GB"),
            Err(PhoneError::Extension)
        );
        assert_eq!(norm("020 7946 O123", "GB"), Err(PhoneError::Letters));
        assert_eq!(norm("020 7946 0018 x", "GB"), Err(PhoneError::Letters));
        assert_eq!(norm("020 7946 0123", "XX"), Err(PhoneError::UnknownCountry));
    }

    /// The two numbers of issue 13 that the length-only check sent: `12345` in an HK task
    /// and `07700 9001` in a GB task.
    #[test]
    fn possible_but_invalid_numbers_are_refused_in_words() {
        let hk = read("12345", "HK", &Rules::default()).unwrap_err();
        assert_eq!(
            hk.message("12345", "HK", true),
            "invalid phone number \"12345\": +85212345 is not in any allocated HK range; check \
             the digits (for a range newer than the phone-number metadata, add `check: \
             possible-length` to the source)"
        );
        let gb = read("07700 9001", "GB", &Rules::default()).unwrap_err();
        assert_eq!(
            gb.message("07700 9001", "GB", true),
            "invalid phone number \"07700 9001\": no GB number starts with 44 0… (it reads as \
             +44077009001): without its trunk prefix 0 it has too few or too many digits for \
             GB; check for a missing or extra digit"
        );
        // Ofcom's drama range is not allocated in libphonenumber's metadata.
        assert!(matches!(
            read("07700 900123", "GB", &Rules::default()),
            Err(PhoneError::NotInRange { .. })
        ));
        // Italian numbers keep their 0, which is no trunk prefix there.
        assert!(has_leading_zero_numbers(Region::from_code("IT").unwrap()));
        assert!(!has_leading_zero_numbers(Region::from_code("GB").unwrap()));
    }

    #[test]
    fn possible_length_accepts_unallocated_numbers_as_of_unknown_type() {
        let number = read("07700 900123", "GB", &lenient()).unwrap();
        assert_eq!(number.e164, E164(447_700_900_123));
        assert_eq!(number.facts.kind, NumberType::Unknown);
        assert_eq!(number.facts.zones, ZoneSet::UNKNOWN);
        // A valid number keeps its type under the lenient check.
        let valid = read("020 7946 0123", "GB", &lenient()).unwrap();
        assert_eq!(valid.facts.kind, NumberType::FixedLine);
        // The length is still checked.
        assert_eq!(
            read("123", "GB", &lenient()).unwrap_err(),
            PhoneError::TooShort
        );
        // A campaign that lists its types must list `unknown` to dial such numbers.
        let typed = Rules {
            check: Check::PossibleLength,
            dialed: Dialed::listed(&[NumberType::Mobile]),
        };
        assert!(matches!(
            read("07700 900123", "GB", &typed),
            Err(PhoneError::Refused {
                kind: NumberType::Unknown,
                ..
            })
        ));
    }

    #[test]
    fn numbers_have_types_and_zones() {
        let london = read("020 7946 0123", "GB", &Rules::default()).unwrap();
        assert_eq!(london.facts.kind, NumberType::FixedLine);
        assert_eq!(london.facts.zones.zones(), ["Europe/London"]);
        let washington = read("(202) 555-0123", "US", &Rules::default()).unwrap();
        assert_eq!(washington.facts.kind, NumberType::FixedLineOrMobile);
        assert_eq!(washington.facts.zones.zones(), ["America/New_York"]);
        let mobile = read("0491 570 156", "AU", &Rules::default()).unwrap();
        assert_eq!(mobile.facts.kind, NumberType::Mobile);
        // Australian mobiles are not located by prefix: every zone of +61.
        assert!(mobile.facts.zones.zones().len() > 3);
        assert!(mobile.facts.zones.zones().contains(&"Australia/Sydney"));
    }

    /// libphonenumber's own example numbers of those types, so that no such number is
    /// written here.
    #[test]
    fn premium_rate_and_shared_cost_are_refused_unless_listed() {
        let mut checked = 0;
        for region in ["GB", "DE", "FR", "ES", "AU", "HK"] {
            for kind in [NumberType::PremiumRate, NumberType::SharedCost] {
                let Ok(example) = PHONE_NUMBER_UTIL.get_example_number_for_type_and_region(
                    Region::from_code(region).unwrap(),
                    kind.to_lib(),
                ) else {
                    continue;
                };
                let raw = e164_of(&example).unwrap().to_string();
                let err = read(&raw, region, &Rules::default()).unwrap_err();
                assert!(
                    matches!(&err, PhoneError::Refused { kind: k, .. } if *k == kind),
                    "{region}: {err:?}"
                );
                assert!(err.message(&raw, region, true).contains("`numberTypes`"));
                let listed = Rules {
                    dialed: Dialed::listed(&[kind]),
                    ..Rules::default()
                };
                assert_eq!(read(&raw, region, &listed).unwrap().facts.kind, kind);
                checked += 1;
            }
        }
        assert!(checked >= 8, "{checked}");
        let mobiles_only = Rules {
            dialed: Dialed::listed(&[NumberType::Mobile]),
            ..Rules::default()
        };
        assert!(matches!(
            read("020 7946 0123", "GB", &mobiles_only),
            Err(PhoneError::Refused {
                kind: NumberType::FixedLine,
                ..
            })
        ));
    }

    /// The zones of libphonenumber's example number of every region and type are those the
    /// `phonenumbers` package (the independent implementation the data comes from) gives;
    /// `scripts/gen-timezones.py` wrote its answers without writing the numbers.
    #[test]
    fn zones_agree_with_phonenumbers_for_every_region() {
        let expected = include_str!("../../tests/fixtures/phone/zones-of-examples.tsv");
        let mut checked = 0;
        let mut regions = std::collections::BTreeSet::new();
        for line in expected.lines().filter(|line| !line.starts_with('#')) {
            let mut fields = line.split('\t');
            let (Some(region), Some(key), Some(zones)) =
                (fields.next(), fields.next(), fields.next())
            else {
                panic!("bad line {line:?}");
            };
            let kind = NumberType::ALL
                .into_iter()
                .find(|kind| kind.key() == key)
                .unwrap();
            let example = PHONE_NUMBER_UTIL
                .get_example_number_for_type_and_region(
                    Region::from_code(region).unwrap(),
                    kind.to_lib(),
                )
                .unwrap();
            let e164 = e164_of(&example).unwrap();
            let found = NumberType::from_lib(PHONE_NUMBER_UTIL.get_number_type(&example));
            assert_eq!(found, kind, "{region} {key}");
            let calling_code = u16::try_from(example.country_code).unwrap();
            let want: Vec<&str> = zones.split(' ').collect();
            assert_eq!(
                zones::zones_of(e164, calling_code, kind).zones(),
                want,
                "{region} {key}"
            );
            regions.insert(region);
            checked += 1;
        }
        assert!(
            checked > 1000 && regions.len() > 240,
            "{checked} {}",
            regions.len()
        );
    }

    /// The computed E.164 form agrees with libphonenumber's formatting, for the example number
    /// of every region (libphonenumber's own, so no number is written here), leading zeros
    /// included.
    #[test]
    fn e164_matches_libphonenumber_formatting() {
        use rlibphonenumber::PhoneNumberFormat;
        let mut checked = 0;
        for region in PHONE_NUMBER_UTIL.get_supported_regions() {
            let Ok(example) = PHONE_NUMBER_UTIL.get_example_number(region) else {
                continue;
            };
            let formatted = PHONE_NUMBER_UTIL.format(&example, PhoneNumberFormat::E164);
            assert_eq!(
                e164_of(&example).map(|n| n.to_string()),
                Some(formatted.into_owned())
            );
            checked += 1;
        }
        assert!(checked > 200, "{checked}");
    }

    #[test]
    fn geographical_types_are_libphonenumbers() {
        for lib in NumberType::ALL.map(NumberType::to_lib) {
            for code in PHONE_NUMBER_UTIL.get_supported_calling_codes() {
                assert_eq!(
                    NumberType::from_lib(lib).is_geographical(code as u16),
                    PHONE_NUMBER_UTIL.is_number_geographical_by_country_code_and_type(lib, code),
                    "{lib:?} {code}"
                );
            }
        }
    }

    #[test]
    fn regions_are_checked() {
        assert!(is_known_region("HK"));
        assert!(is_known_region("hk"));
        assert!(!is_known_region("XX"));
        assert!(!is_known_region("HKG"));
        assert!(!is_known_region("001"));
        // The same regions as rlibphonenumber's, in either case.
        for first in b'A'..=b'Z' {
            for second in b'A'..=b'Z' {
                let code = String::from_utf8(vec![first, second]).unwrap();
                for code in [code.clone(), code.to_ascii_lowercase()] {
                    assert_eq!(
                        is_known_region(&code),
                        calling_code(&code).is_some(),
                        "{code}"
                    );
                }
            }
        }
    }

    #[test]
    fn e164_prints_with_and_without_plus() {
        let n = E164(442_079_460_123);
        assert_eq!(n.digits(), "442079460123");
        assert_eq!(n.to_string(), "+442079460123");
    }

    /// Separators a person might put between digit groups.
    fn separator() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["", " ", "-", ".", "  ", " - "])
    }

    /// A number's digits, cut into groups with separators.
    fn grouped(digits: String, cuts: Vec<usize>, seps: Vec<&'static str>) -> String {
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && cuts.contains(&i) {
                out.push_str(seps[i % seps.len()]);
            }
            out.push(c);
        }
        out
    }

    proptest! {
        /// However a London drama number (020 7946 0000–0999) is written (national with trunk
        /// prefix, international with `+` or `00`, with any separators and parentheses around
        /// the trunk prefix), it normalizes to the same E.164 digits.
        #[test]
        fn formats_of_one_number_agree(
            last in 0u32..1000,
            cuts in prop::collection::vec(1usize..10, 0..4),
            seps in prop::collection::vec(separator(), 1..4),
            form in 0usize..5,
        ) {
            let national = format!("2079460{last:03}");
            let body = grouped(national.clone(), cuts, seps);
            let raw = match form {
                0 => format!("0{body}"),
                1 => format!("(0){body}"),
                2 => format!("+44 {body}"),
                3 => format!("0044 {body}"),
                _ => format!("+44 (0){body}"),
            };
            prop_assert_eq!(norm(&raw, "GB"), Ok(format!("44{national}")));
        }

        /// A US number in the 555-01xx range, written in any of the usual ways, comes out as
        /// 1 and its ten digits (of any type and in any area code, allocated or not: this is
        /// about reading, not about the ranges).
        #[test]
        fn us_formats_agree(area in 201u32..990, last in 100u32..200, form in 0usize..4) {
            let raw = match form {
                0 => format!("({area}) 555-0{last}"),
                1 => format!("{area}.555.0{last}"),
                2 => format!("+1 {area} 555 0{last}"),
                _ => format!("1-{area}-555-0{last}"),
            };
            prop_assert_eq!(
                read(&raw, "US", &Rules::exclusions()).map(|n| n.e164.digits()),
                Ok(format!("1{area}5550{last}"))
            );
        }

        /// Normalizing never panics, whatever the text.
        #[test]
        fn arbitrary_text_never_panics(raw in ".{0,40}", country in prop::sample::select(vec!["GB", "US", "HK", "DE", "IT"])) {
            let _ = read(&raw, country, &Rules::default());
        }

        /// Normalizing is idempotent: the E.164 form of a number reads back as itself, in any
        /// task country.
        #[test]
        fn e164_output_is_a_fixed_point(last in 0u32..1000, country in prop::sample::select(vec!["GB", "US", "HK"])) {
            let number = read(&format!("020 7946 0{last:03}"), "GB", &Rules::default()).unwrap();
            prop_assert_eq!(read(&number.e164.to_string(), country, &Rules::default()), Ok(number));
        }
    }
}
