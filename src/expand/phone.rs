//! Phone numbers: normalization to E.164, behind a small interface so the library can change.

use rlibphonenumber::{PHONE_NUMBER_UTIL, Region};

/// Whether `code` is a two-letter region the phone-number metadata knows, such as `HK`.
pub fn is_known_region(code: &str) -> bool {
    Region::from_code(code).is_ok_and(|region| PHONE_NUMBER_UTIL.get_country_code_for_region(region).is_some())
}
