//! The fast path: numbers written the usual ways (digits, spaces, `-`, `.`, brackets, an
//! optional leading `+`) read with libphonenumber's own steps and metadata
//! (`metadata.txt`, the same version as rlibphonenumber's), without its general-purpose
//! machinery: no regex engine, no allocation, no text normalization.
//!
//! It answers only where it is sure: a number that passes the possible-length check (with its
//! type), one of another country written without `+`, or one whose length is impossible.
//! Anything else (another shape, a calling code without a region, a national prefix that
//! rewrites the number) goes to rlibphonenumber. For inputs of those shapes
//! rlibphonenumber's parse depends only on the digits and on whether a `+` leads, which is
//! what makes the steps below the same as its own; a test holds the two to the same answer on
//! a million generated numbers of every region and every written form.

use std::sync::{LazyLock, OnceLock};

use rustc_hash::FxHashMap;

use super::pattern::Pattern;
use super::types::NumberType;
use super::{E164, PhoneError};

/// libphonenumber's bounds on a national significant number and a calling code.
const MIN_NSN: usize = 2;
const MAX_NSN: usize = 17;

/// Digits of a number as written, at most this many (a calling code and the longest NSN).
const MAX_DIGITS: usize = 20;

/// Bytes of a number as written, at most this many.
const MAX_TEXT: usize = 64;

/// What the fast path found: a number that passed the possible-length check, with its type
/// (`Unknown` when the full check would refuse it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    pub e164: E164,
    pub calling_code: u16,
    pub kind: NumberType,
}

/// Reads `text` (trimmed) for a task of region `country`, as rlibphonenumber would up to its
/// possible-length check (errors are exactly its errors), or `None` to leave it to it.
pub fn read(text: &str, country: &str) -> Option<Result<Read, PhoneError>> {
    let (plus, digits, count) = shape(text)?;
    let digits = &digits[..count];
    let region = METADATA.region(country)?;
    let (calling_code, national) = split(region, plus, digits)?;
    let home = METADATA.main_region(calling_code)?;
    let refused = match length(national, &home.general) {
        Length::Possible => None,
        Length::LocalOnly => Some(PhoneError::LocalOnly),
        Length::TooShort => Some(PhoneError::TooShort),
        Length::TooLong => Some(PhoneError::TooLong),
        Length::Invalid => Some(PhoneError::InvalidLength),
    };
    if let Some(err) = refused {
        return Some(Err(err));
    }
    let Some(e164) = e164(calling_code, national) else {
        return Some(Err(PhoneError::TooLong));
    };
    if calling_code != region.calling_code && !plus {
        return Some(Err(PhoneError::OtherCountry { number: e164 }));
    }
    let kind = METADATA
        .region_of_number(calling_code, national)
        .map_or(NumberType::Unknown, |region| region.kind(national));
    Some(Ok(Read {
        e164,
        calling_code,
        kind,
    }))
}

/// Whether `code` is a region of the metadata, in upper or lower case (`HK`, `hk`).
pub fn is_known_region(code: &str) -> bool {
    region_key(&code.to_ascii_uppercase()).is_some_and(|key| METADATA.regions.contains_key(&key))
}

/// The digits of `text` and whether a `+` leads, when it is written with nothing but digits,
/// spaces, `-`, `.` and brackets after an optional `+`.
fn shape(text: &str) -> Option<(bool, [u8; MAX_DIGITS], usize)> {
    let bytes = text.as_bytes();
    // Far below libphonenumber's limit on the input's length.
    if bytes.len() > MAX_TEXT {
        return None;
    }
    let (plus, rest) = match bytes.split_first() {
        Some((b'+', rest)) => (true, rest),
        _ => (false, bytes),
    };
    let mut digits = [0u8; MAX_DIGITS];
    let mut count = 0;
    for &byte in rest {
        match byte {
            b'0'..=b'9' => {
                *digits.get_mut(count)? = byte;
                count += 1;
            }
            b' ' | b'-' | b'.' | b'(' | b')' => {}
            _ => return None,
        }
    }
    // Fewer digits make no number libphonenumber's viability check is simple about.
    (count >= 4).then_some((plus, digits, count))
}

/// libphonenumber's parse of digits written in a task of `region`: the calling code and the
/// national significant number.
fn split<'d>(region: &Region, plus: bool, digits: &'d [u8]) -> Option<(u16, &'d [u8])> {
    let (calling_code, national, extracted) = if plus {
        let (code, rest) = calling_code_of(digits)?;
        (code, rest, true)
    } else if let Some(after) = region.idd_end(digits) {
        let (code, rest) = calling_code_of(&digits[after..])?;
        (code, rest, true)
    } else if let Some(rest) = region.without_own_code(digits)? {
        (region.calling_code, rest, true)
    } else {
        (region.calling_code, digits, false)
    };
    // The metadata whose national prefix is stripped: the task's region's, unless the number
    // named a calling code whose main region is another.
    let metadata = if extracted {
        let home = METADATA.main_region(calling_code)?;
        if home.code == region.code {
            region
        } else {
            home
        }
    } else {
        region
    };
    if national.len() < MIN_NSN {
        return None;
    }
    let stripped = metadata.strip_national_prefix(national)?;
    let national = match length(stripped, &metadata.general) {
        Length::LocalOnly | Length::TooShort | Length::Invalid => national,
        Length::Possible | Length::TooLong => stripped,
    };
    if !(MIN_NSN..=MAX_NSN).contains(&national.len()) {
        return None;
    }
    Some((calling_code, national))
}

/// The calling code at the start of digits that followed a `+` or an international prefix.
fn calling_code_of(digits: &[u8]) -> Option<(u16, &[u8])> {
    if digits.len() <= MIN_NSN || digits[0] == b'0' {
        return None;
    }
    (1..=3).find_map(|take| {
        let code = number(&digits[..take])? as u16;
        METADATA
            .regions_of_code
            .contains_key(&code)
            .then(|| (code, &digits[take..]))
    })
}

fn number(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |value, &digit| {
        value.checked_mul(10)?.checked_add(u64::from(digit - b'0'))
    })
}

/// The E.164 number: the calling code, then the national significant number as written
/// (leading zeros included, as libphonenumber formats them).
fn e164(calling_code: u16, national: &[u8]) -> Option<E164> {
    let scale = 10u64.checked_pow(national.len() as u32)?;
    u64::from(calling_code)
        .checked_mul(scale)?
        .checked_add(number(national)?)
        .map(E164)
}

/// libphonenumber's verdict on a length (`testNumberLength` for an unknown type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Length {
    Possible,
    LocalOnly,
    TooShort,
    TooLong,
    Invalid,
}

fn length(digits: &[u8], general: &Desc) -> Length {
    let possible = general.lengths.unwrap_or(0);
    if possible == 0 {
        return Length::Invalid;
    }
    let actual = digits.len() as u32;
    if actual >= 64 {
        return Length::TooLong;
    }
    let bit = 1u64 << actual;
    if general.local & bit != 0 {
        return Length::LocalOnly;
    }
    let (min, max) = (possible.trailing_zeros(), 63 - possible.leading_zeros());
    if actual == min {
        Length::Possible
    } else if actual < min {
        Length::TooShort
    } else if actual > max {
        Length::TooLong
    } else if possible & bit != 0 {
        Length::Possible
    } else {
        Length::Invalid
    }
}

/// A number description: which lengths and which digits a type's numbers have.
#[derive(Debug, Default)]
struct Desc {
    /// Possible lengths as a bit mask; `None` when the metadata lists none (then any length
    /// passes and only the pattern decides).
    lengths: Option<u64>,
    local: u64,
    pattern: Option<Pattern>,
}

impl Desc {
    /// libphonenumber's `isNumberMatchingDesc`.
    fn matches(&self, digits: &[u8]) -> bool {
        if self
            .lengths
            .is_some_and(|mask| digits.len() >= 64 || mask & (1 << digits.len()) == 0)
        {
            return false;
        }
        self.pattern
            .as_ref()
            .is_some_and(|pattern| pattern.matches(digits))
    }
}

/// The metadata of one region, compiled when a number first needs it.
#[derive(Debug)]
struct Region {
    code: &'static str,
    calling_code: u16,
    idd: Option<Pattern>,
    national_prefix: Option<Pattern>,
    /// Whether a transform rule rebuilds national numbers from the prefix's groups.
    transform: bool,
    same_mobile_and_fixed_line: bool,
    leading_digits: Option<Pattern>,
    general: Desc,
    /// Every other description, by [`NumberType::index`].
    types: [Option<Desc>; 12],
}

/// The types whose descriptions are read before fixed lines and mobiles, in that order.
const SPECIAL_TYPES: [NumberType; 8] = [
    NumberType::PremiumRate,
    NumberType::TollFree,
    NumberType::SharedCost,
    NumberType::Voip,
    NumberType::PersonalNumber,
    NumberType::Pager,
    NumberType::Uan,
    NumberType::Voicemail,
];

impl Region {
    fn desc(&self, kind: NumberType) -> Option<&Desc> {
        self.types[kind.index()].as_ref()
    }

    /// libphonenumber's `getNumberTypeHelper`.
    fn kind(&self, national: &[u8]) -> NumberType {
        if !self.general.matches(national) {
            return NumberType::Unknown;
        }
        for kind in SPECIAL_TYPES {
            if self.desc(kind).is_some_and(|desc| desc.matches(national)) {
                return kind;
            }
        }
        let mobile = || {
            self.desc(NumberType::Mobile)
                .is_some_and(|desc| desc.matches(national))
        };
        if self
            .desc(NumberType::FixedLine)
            .is_some_and(|desc| desc.matches(national))
        {
            return if self.same_mobile_and_fixed_line || mobile() {
                NumberType::FixedLineOrMobile
            } else {
                NumberType::FixedLine
            };
        }
        if !self.same_mobile_and_fixed_line && mobile() {
            return NumberType::Mobile;
        }
        NumberType::Unknown
    }

    /// Where the digits after the region's international prefix start, if they start with
    /// one (and the next digit is not 0: no calling code starts with 0).
    fn idd_end(&self, digits: &[u8]) -> Option<usize> {
        let end = self.idd.as_ref()?.match_start(digits, &mut [])?;
        (digits.get(end) != Some(&b'0')).then_some(end)
    }

    /// The digits after the region's own calling code written without `+` (`44 20 …` in a GB
    /// task), when libphonenumber reads them so: the number is no valid-looking national
    /// number with the code but is one without it, or is too long with it. `None` when
    /// unsure.
    fn without_own_code<'d>(&self, digits: &'d [u8]) -> Option<Option<&'d [u8]>> {
        let mut code = itoa::Buffer::new();
        let Some(rest) = digits.strip_prefix(code.format(self.calling_code).as_bytes()) else {
            return Some(None);
        };
        let stripped = self.strip_national_prefix(rest)?;
        let better =
            !self.general.pattern_matches(digits) && self.general.pattern_matches(stripped);
        Some((better || length(digits, &self.general) == Length::TooLong).then_some(stripped))
    }

    /// libphonenumber's `maybeStripNationalPrefixAndCarrierCode`: the number without its
    /// national prefix (transformed where the region says so), or as it is. `None` when the
    /// transformed number does not fit in the buffer (never for real metadata).
    fn strip_national_prefix<'d>(&self, digits: &'d [u8]) -> Option<&'d [u8]> {
        let Some(prefix) = self.national_prefix.as_ref().filter(|_| !digits.is_empty()) else {
            return Some(digits);
        };
        let mut spans = [None; 2];
        let Some(end) = prefix.match_start(digits, &mut spans) else {
            return Some(digits);
        };
        // A transform rebuilds the number from the prefix's groups (Argentina's `9$1`);
        // whenever one may apply, rlibphonenumber reads the number.
        if self.transform && spans.iter().any(Option::is_some) {
            return None;
        }
        let viable = self.general.pattern_matches(digits);
        let stripped = &digits[end..];
        if viable && !self.general.pattern_matches(stripped) {
            return Some(digits);
        }
        Some(stripped)
    }
}

impl Desc {
    fn pattern_matches(&self, digits: &[u8]) -> bool {
        self.pattern
            .as_ref()
            .is_some_and(|pattern| pattern.matches(digits))
    }
}

/// A region code as a number, looked up once or more per number read: two ASCII letters.
fn region_key(code: &str) -> Option<u16> {
    match *code.as_bytes() {
        [first, second] => Some(u16::from_be_bytes([first, second])),
        _ => None,
    }
}

/// Every region's metadata, each compiled on first use.
struct Metadata {
    /// By [`region_key`]: the region's block of the data, and the region once compiled.
    regions: FxHashMap<u16, (&'static str, OnceLock<Option<Region>>)>,
    /// The regions of each calling code, its main region first.
    regions_of_code: FxHashMap<u16, Vec<&'static str>>,
}

static METADATA: LazyLock<Metadata> =
    LazyLock::new(|| Metadata::parse(include_str!("metadata.txt")));

impl Metadata {
    fn parse(text: &'static str) -> Metadata {
        let mut metadata = Metadata {
            regions: FxHashMap::default(),
            regions_of_code: FxHashMap::default(),
        };
        let mut rest = text;
        while let Some(start) = rest.find("\n@") {
            let block = &rest[start + 1..];
            let end = block.find("\n@").map_or(block.len(), |end| end + 1);
            let code = block[1..].split(' ').next().unwrap_or_default();
            if let Some(key) = region_key(code) {
                metadata
                    .regions
                    .insert(key, (&block[..end], OnceLock::new()));
            }
            rest = &block[end.saturating_sub(1)..];
        }
        for line in text.lines().filter(|line| line.starts_with("cc ")) {
            let mut words = line.split(' ').skip(1);
            if let Some(Ok(code)) = words.next().map(str::parse) {
                metadata.regions_of_code.insert(code, words.collect());
            }
        }
        metadata
    }

    fn region(&self, code: &str) -> Option<&Region> {
        let (text, compiled) = self.regions.get(&region_key(code)?)?;
        compiled.get_or_init(|| Region::compile(text)).as_ref()
    }

    /// The region a calling code belongs to first (`US` for +1); `None` for the
    /// non-geographic codes (+800 and the like), which the fast path leaves alone.
    fn main_region(&self, calling_code: u16) -> Option<&Region> {
        let main = self.regions_of_code.get(&calling_code)?.first()?;
        self.region(main)
    }

    /// libphonenumber's `getRegionCodeForNumber`: of the regions sharing a calling code, the
    /// first whose leading digits start the number or whose types include it.
    fn region_of_number(&self, calling_code: u16, national: &[u8]) -> Option<&Region> {
        let regions = self.regions_of_code.get(&calling_code)?;
        if let [only] = regions.as_slice() {
            return self.region(only);
        }
        regions.iter().find_map(|code| {
            let region = self.region(code)?;
            let leads = region
                .leading_digits
                .as_ref()
                .is_some_and(|pattern| pattern.match_start(national, &mut []).is_some());
            (leads || region.kind(national) != NumberType::Unknown).then_some(region)
        })
    }
}

impl Region {
    /// Compiles a region's block of `metadata.txt`; `None` if it cannot (a test compiles
    /// every region, so that never happens with the data as generated).
    fn compile(block: &'static str) -> Option<Region> {
        let mut lines = block.lines();
        let mut head = lines.next()?.trim_start_matches('@').split(' ');
        let mut region = Region {
            code: head.next()?,
            calling_code: head.next()?.parse().ok()?,
            idd: None,
            national_prefix: None,
            transform: false,
            same_mobile_and_fixed_line: false,
            leading_digits: None,
            general: Desc::default(),
            types: Default::default(),
        };
        let pattern = |text: &str| match text {
            "-" => Ok(None),
            text => Pattern::compile(text).map(Some),
        };
        for line in lines {
            let (key, value) = line.split_once(' ')?;
            match key {
                "idd" => region.idd = pattern(value).ok()?,
                "npp" => region.national_prefix = pattern(value).ok()?,
                "npt" => region.transform = value != "-",
                "same" => region.same_mobile_and_fixed_line = value == "1",
                "ld" => region.leading_digits = pattern(value).ok()?,
                "general" => region.general = desc(value)?,
                _ => {
                    let kind = NumberType::ALL.into_iter().find(|kind| kind.key() == key)?;
                    region.types[kind.index()] = Some(desc(value)?);
                }
            }
        }
        Some(region)
    }
}

/// `LENGTHS LOCAL PATTERN`.
fn desc(value: &str) -> Option<Desc> {
    let mut fields = value.split(' ');
    let mask = |field: &str| -> Option<Option<u64>> {
        if field == "-" {
            return Some(None);
        }
        let mut mask = 0u64;
        for length in field.split(',') {
            match length.parse::<i32>().ok()? {
                // libphonenumber's mark for "no numbers of this type".
                -1 => mask = 0,
                length @ 0..=63 => mask |= 1 << length,
                _ => return None,
            }
        }
        Some(Some(mask))
    };
    let lengths = mask(fields.next()?)?;
    let local = mask(fields.next()?)?.unwrap_or(0);
    let pattern = match fields.next()? {
        "-" => None,
        text => Some(Pattern::compile(text).ok()?),
    };
    Some(Desc {
        lengths,
        local,
        pattern,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use rayon::prelude::*;
    use rlibphonenumber::{PHONE_NUMBER_UTIL, PhoneNumberFormat};

    use super::*;
    use crate::phone::{LibPhoneNumber, PhoneNormalizer, Rules, read_slowly};

    #[test]
    fn every_region_compiles() {
        assert!(METADATA.regions.len() > 240);
        for regions in METADATA.regions_of_code.values() {
            for code in regions.iter().filter(|code| **code != "001") {
                assert!(METADATA.region(code).is_some(), "{code}");
            }
        }
        // Every region is some calling code's (001, the non-geographic entities, aside).
        let listed: std::collections::HashSet<u16> = METADATA
            .regions_of_code
            .values()
            .flatten()
            .filter_map(|code| region_key(code))
            .collect();
        assert_eq!(listed.len(), METADATA.regions.len());
    }

    /// The regions the agreement test writes numbers for: every continent, every shape of
    /// national prefix (none, `0`, `1`, `8`, `06`, carrier codes), shared calling codes.
    const REGIONS: [&str; 44] = [
        "GB", "US", "HK", "AU", "IN", "DE", "BR", "FR", "IT", "ES", "NL", "BE", "CH", "AT", "SE",
        "NO", "DK", "FI", "PL", "PT", "IE", "CA", "MX", "AR", "CL", "CO", "JP", "KR", "CN", "SG",
        "MY", "ID", "PH", "TH", "VN", "ZA", "NG", "EG", "RU", "TR", "NZ", "HU", "JE", "KZ",
    ];

    /// SplitMix64: the same cases on every run.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// The national significant numbers of libphonenumber's example numbers of a region, of
    /// every type (no number is written in this file).
    fn examples(region: &str) -> (u16, Vec<String>) {
        let code = rlibphonenumber::Region::from_code(region).unwrap();
        let nsns = NumberType::ALL
            .into_iter()
            .filter_map(|kind| {
                PHONE_NUMBER_UTIL
                    .get_example_number_for_type_and_region(code, kind.to_lib())
                    .ok()
            })
            .map(|number| rlibphonenumber::get_national_significant_number_owned(&number))
            .collect();
        let calling_code = PHONE_NUMBER_UTIL.get_country_code_for_region(code).unwrap();
        (calling_code as u16, nsns)
    }

    /// One generated input: a number of a region near one of its example numbers, changed
    /// (other digits, too short, too long, a trunk prefix added or wrong) and written in one
    /// of the ways people write numbers, for a task of its own or another country.
    fn case(rng: &mut Rng, examples: &[(u16, Vec<String>)]) -> (String, &'static str) {
        let task = rng.below(REGIONS.len());
        let own = if rng.below(5) == 0 {
            rng.below(REGIONS.len())
        } else {
            task
        };
        let (calling_code, nsns) = &examples[own];
        let mut nsn: Vec<u8> = nsns[rng.below(nsns.len())].bytes().collect();
        let digit = |rng: &mut Rng| b'0' + rng.below(10) as u8;
        match rng.below(10) {
            // Other last digits: mostly still valid.
            0..=5 => {
                let change = 1 + rng.below(4.min(nsn.len()));
                let keep = nsn.len() - change;
                for byte in &mut nsn[keep..] {
                    *byte = digit(rng);
                }
            }
            6 => {
                nsn.pop();
            }
            7 => nsn.push(digit(rng)),
            8 => {
                for byte in nsn.iter_mut().skip(1) {
                    *byte = digit(rng);
                }
            }
            _ => nsn.insert(0, if rng.below(2) == 0 { b'0' } else { b'1' }),
        }
        let nsn = String::from_utf8(nsn).unwrap();
        let international = format!("+{calling_code}{nsn}");
        let parsed = PHONE_NUMBER_UTIL.parse(&international, None).ok();
        let formatted = |format| {
            parsed.as_ref().map_or_else(
                || international.clone(),
                |number| PHONE_NUMBER_UTIL.format(number, format).into_owned(),
            )
        };
        let text = match rng.below(13) {
            0 | 1 => formatted(PhoneNumberFormat::National),
            2 => formatted(PhoneNumberFormat::National).replace(' ', "-"),
            3 => formatted(PhoneNumberFormat::National).replace([' ', '-', '(', ')'], ""),
            4 => formatted(PhoneNumberFormat::International),
            5 => formatted(PhoneNumberFormat::E164),
            6 => format!("00{calling_code} {nsn}"),
            7 => format!("011 {calling_code} {nsn}"),
            8 => format!("{calling_code}{nsn}"),
            9 => format!("+{calling_code} (0){nsn}"),
            10 => format!("({}) {}", &nsn[..nsn.len() / 3], &nsn[nsn.len() / 3..]),
            // A trunk prefix and a carrier code (Brazil's `0 21`, Colombia's `03`).
            11 => format!("0{}{} {nsn}", rng.below(10), rng.below(10)),
            _ => formatted(PhoneNumberFormat::National).replace(' ', "."),
        };
        (text, REGIONS[task])
    }

    /// The fast path and rlibphonenumber agree on `count` generated inputs: whatever the fast
    /// path accepts, rlibphonenumber accepts as the same E.164 number of the same type (and so
    /// the same zones), and reading through both gives what rlibphonenumber alone gives, with
    /// the full check and with the length-only one.
    fn agree(count: usize, seed: u64) {
        let examples: Vec<_> = REGIONS.iter().map(|region| examples(region)).collect();
        let (fast, accepted) = (AtomicUsize::new(0), AtomicUsize::new(0));
        (0..count / 1000).into_par_iter().for_each(|chunk| {
            let mut rng = Rng(seed ^ (chunk as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
            for _ in 0..1000 {
                let (text, country) = case(&mut rng, &examples);
                let lenient = read_slowly(&text, country, &Rules::exclusions());
                if let Some(verdict) = read(&text, country) {
                    fast.fetch_add(1, Ordering::Relaxed);
                    assert_eq!(
                        lenient.clone().map(|slow| (slow.e164, slow.facts.kind)),
                        verdict.map(|found| (found.e164, found.kind)),
                        "{text:?} in {country}"
                    );
                }
                if lenient.is_ok() {
                    accepted.fetch_add(1, Ordering::Relaxed);
                }
                for rules in [Rules::default(), Rules::exclusions()] {
                    assert_eq!(
                        LibPhoneNumber.read(&text, country, &rules),
                        read_slowly(&text, country, &rules),
                        "{text:?} in {country}"
                    );
                }
            }
        });
        let (fast, accepted) = (fast.into_inner(), accepted.into_inner());
        // The fast path must carry the numbers that rlibphonenumber accepts, or it is no
        // fast path: all but those of the rare shapes it leaves alone.
        assert!(
            fast >= accepted * 9 / 10,
            "fast path answered {fast} inputs; rlibphonenumber accepted {accepted}"
        );
    }

    proptest::proptest! {
        /// Whatever digits and separators are written, in whichever region, the fast path
        /// accepts only what rlibphonenumber accepts, as the same number and type.
        #[test]
        fn any_digits_in_any_region_agree(
            text in "[+]?[0-9 ().-]{0,24}",
            region in proptest::sample::select(REGIONS.to_vec()),
        ) {
            if let Some(verdict) = read(text.trim(), region) {
                let slow = read_slowly(text.trim(), region, &Rules::exclusions());
                proptest::prop_assert_eq!(
                    slow.map(|number| (number.e164, number.facts.kind)),
                    verdict.map(|found| (found.e164, found.kind))
                );
            }
        }

        /// Digits a region's numbers could start with, written with its calling code.
        #[test]
        fn numbers_near_valid_ones_agree(
            digits in "[1-9][0-9]{6,12}",
            region in proptest::sample::select(REGIONS.to_vec()),
            plus in proptest::bool::ANY,
        ) {
            let calling_code = METADATA.region(region).unwrap().calling_code;
            let text = format!("{}{calling_code} {digits}", if plus { "+" } else { "" });
            for rules in [Rules::default(), Rules::exclusions()] {
                proptest::prop_assert_eq!(
                    LibPhoneNumber.read(&text, region, &rules),
                    read_slowly(&text, region, &rules)
                );
            }
        }
    }

    /// About 14 s of the suite unoptimized (two cores): the million inputs are the proof.
    #[test]
    fn fast_path_agrees_with_libphonenumber_on_a_million_inputs() {
        agree(1_000_000, 0x5EED_1000);
    }
}
