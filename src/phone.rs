//! Phone numbers: normalization to E.164, behind a small interface so the library can change.
//!
//! A number is accepted when libphonenumber can read it and its length is possible for its
//! country (see docs/decisions.md, "Expansion"): the full range check would reject the number
//! ranges reserved for fiction and testing (07700 900xxx), lags new allocations, and costs
//! several times more per number.

use std::fmt;

use rlibphonenumber::{
    NumberLengthType, PHONE_NUMBER_UTIL, ParseError, PhoneNumber, Region, ValidationError,
};

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
}

impl PhoneError {
    /// The message about `raw`, a number written for a task whose country is `country`.
    pub fn message(&self, raw: &str, country: &str) -> String {
        match self {
            PhoneError::Empty => "empty phone number".to_owned(),
            PhoneError::OtherCountry { .. } => {
                format!("phone number {raw:?}: {}", self.reason(country))
            }
            _ => format!("invalid phone number {raw:?}: {}", self.reason(country)),
        }
    }

    /// What is wrong, as the end of a sentence about the number: `too short for GB`.
    fn reason(&self, country: &str) -> String {
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
                "it is a number of {} ({number}), not of the task's country {country}; write it \
                 as {number} if it is meant",
                region_of(*number).unwrap_or_else(|| "another country".to_owned()),
            ),
            PhoneError::UnknownCountry => format!("{country} is not a known country code"),
        }
    }
}

/// Normalizes written phone numbers to E.164.
pub trait PhoneNormalizer: Sync {
    /// Whether `country` is a two-letter region code that numbers can be read for.
    fn is_known_region(&self, country: &str) -> bool;

    /// Reads `raw`, written by someone in `country`: numbers without a country code belong to
    /// `country`; numbers with `+` may belong to any country; a number of another country
    /// written without `+` is [`PhoneError::OtherCountry`].
    fn normalize(&self, raw: &str, country: &str) -> Result<E164, PhoneError>;
}

/// The normalizer campaignctl uses: rlibphonenumber, a port of Google's libphonenumber.
#[derive(Debug, Clone, Copy, Default)]
pub struct LibPhoneNumber;

impl PhoneNormalizer for LibPhoneNumber {
    fn is_known_region(&self, country: &str) -> bool {
        calling_code(country).is_some()
    }

    fn normalize(&self, raw: &str, country: &str) -> Result<E164, PhoneError> {
        let text = raw.trim();
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
        Ok(e164)
    }
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
        LibPhoneNumber.normalize(raw, country).map(E164::digits)
    }

    #[test]
    fn common_formats_normalize_to_the_same_digits() {
        for raw in [
            "07700 900123",
            "07700-900-123",
            "(07700) 900123",
            "(0)7700 900123",
            "+44 7700 900123",
            "+44 (0) 7700 900123",
            "+44 07700 900123",
            "0044 7700 900123",
            "447700900123",
            "7700900123",
            "  07700.900.123  ",
        ] {
            assert_eq!(norm(raw, "GB"), Ok("447700900123".into()), "{raw}");
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
        assert_eq!(norm("020 7946 0018", "GB"), Ok("442079460018".into()));
    }

    #[test]
    fn numbers_with_plus_keep_their_country() {
        assert_eq!(norm("+1 202 555 0117", "GB"), Ok("12025550117".into()));
        assert_eq!(norm("+44 7700 900100", "US"), Ok("447700900100".into()));
    }

    #[test]
    fn numbers_of_another_country_without_plus_are_refused() {
        let err = LibPhoneNumber
            .normalize("011 44 7700 900100", "US")
            .unwrap_err();
        assert_eq!(
            err,
            PhoneError::OtherCountry {
                number: E164(447_700_900_100)
            }
        );
        let text = err.message("011 44 7700 900100", "US");
        assert_eq!(
            text,
            "phone number \"011 44 7700 900100\": it is a number of GB (+447700900100), not of \
             the task's country US; write it as +447700900100 if it is meant"
        );
        let text = PhoneError::TooShort.message("123", "GB");
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
        assert_eq!(norm("07700 900123 4567", "GB"), Err(PhoneError::TooLong));
        assert_eq!(norm("555-0123", "US"), Err(PhoneError::LocalOnly));
        assert_eq!(
            norm("+44 7700 900123 ext. 12", "GB"),
            Err(PhoneError::Extension)
        );
        assert_eq!(norm("0770O 9OO123", "GB"), Err(PhoneError::Letters));
        assert_eq!(norm("020 7946 0018 x", "GB"), Err(PhoneError::Letters));
        assert_eq!(norm("07700 900123", "XX"), Err(PhoneError::UnknownCountry));
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
    fn regions_are_checked() {
        assert!(is_known_region("HK"));
        assert!(!is_known_region("XX"));
        assert!(!is_known_region("HKG"));
    }

    #[test]
    fn e164_prints_with_and_without_plus() {
        let n = E164(447_700_900_123);
        assert_eq!(n.digits(), "447700900123");
        assert_eq!(n.to_string(), "+447700900123");
    }

    /// Separators a person might put between digit groups.
    fn separator() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["", " ", "-", ".", "  ", " - "])
    }

    /// A fictional UK mobile number's subscriber digits, cut into groups with separators.
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
        /// However a number of the 07700 900xxx range is written (national with trunk prefix,
        /// international with `+` or `00`, with any separators and parentheses around the
        /// trunk prefix), it normalizes to the same E.164 digits.
        #[test]
        fn formats_of_one_number_agree(
            last in 0u32..1000,
            cuts in prop::collection::vec(1usize..10, 0..4),
            seps in prop::collection::vec(separator(), 1..4),
            form in 0usize..5,
        ) {
            let national = format!("7700900{last:03}");
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
        /// 1 and its ten digits.
        #[test]
        fn us_formats_agree(area in 201u32..990, last in 100u32..200, form in 0usize..4) {
            let raw = match form {
                0 => format!("({area}) 555-0{last}"),
                1 => format!("{area}.555.0{last}"),
                2 => format!("+1 {area} 555 0{last}"),
                _ => format!("1-{area}-555-0{last}"),
            };
            prop_assert_eq!(norm(&raw, "US"), Ok(format!("1{area}5550{last}")));
        }

        /// Normalizing never panics, whatever the text.
        #[test]
        fn arbitrary_text_never_panics(raw in ".{0,40}", country in prop::sample::select(vec!["GB", "US", "HK", "DE", "IT"])) {
            let _ = LibPhoneNumber.normalize(&raw, country);
        }

        /// Normalizing is idempotent: the E.164 form of a number reads back as itself, in any
        /// task country.
        #[test]
        fn e164_output_is_a_fixed_point(last in 0u32..1000, country in prop::sample::select(vec!["GB", "US", "HK"])) {
            let number = LibPhoneNumber.normalize(&format!("07700 900{last:03}"), "GB").unwrap();
            prop_assert_eq!(LibPhoneNumber.normalize(&number.to_string(), country), Ok(number));
        }
    }
}
