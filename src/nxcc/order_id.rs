//! Deterministic orderIDs: the same campaign and number always give the same id, so a re-plan
//! yields the same requests and state can recognise every number it has sent.

use sha1::{Digest, Sha1};
use uuid::{Builder, Uuid};

/// The UUID v5 namespace of campaignctl's orderIDs: a random UUID chosen once. Changing it
/// would change every orderID, so state written before would no longer match.
const NAMESPACE: Uuid = Uuid::from_u128(0xfc18_23c9_b8d5_42db_a93f_a228_20c6_3cce);

/// The orderID of the number `e164` (with or without its `+`) in `campaign`: the UUID v5, in
/// [`NAMESPACE`], of the UTF-8 text `{campaign}:+{digits}`, as 32 uppercase hex digits.
pub fn order_id(campaign: &str, e164: &str) -> String {
    order_id_of_digits(campaign, e164.strip_prefix('+').unwrap_or(e164))
}

/// [`order_id`] of a number's E.164 digits (no `+`): expansion computes a million of these.
///
/// The UUID v5 is computed here rather than by `Uuid::new_v5`, whose portable SHA-1 took an
/// eighth of a million-number plan: the `sha1` crate uses the CPU's SHA instructions where
/// there are some, and the name is hashed in parts, never assembled. A test holds the result
/// to `Uuid::new_v5`.
pub(crate) fn order_id_of_digits(campaign: &str, digits: &str) -> String {
    order_id_text(order_key(campaign, digits))
}

/// The orderID of `digits` in `campaign` as the 128-bit number its 32 hex digits spell: the
/// compact form state keeps and compares.
pub fn order_key(campaign: &str, digits: &str) -> u128 {
    let mut hasher = Sha1::new();
    hasher.update(NAMESPACE.as_bytes());
    hasher.update(campaign.as_bytes());
    hasher.update(b":+");
    hasher.update(digits.as_bytes());
    let hash = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash[..16]);
    // Sets the version (5) and variant bits, exactly as `Uuid::new_v5` does.
    Builder::from_sha1_bytes(bytes).into_uuid().as_u128()
}

/// The orderID text (32 uppercase hex digits) of a key.
pub fn order_id_text(key: u128) -> String {
    let mut hex = [0u8; uuid::fmt::Simple::LENGTH];
    Uuid::from_u128(key)
        .simple()
        .encode_upper(&mut hex)
        .to_owned()
}

/// The key of an orderID written as campaignctl writes them (32 uppercase hex digits), else
/// `None`: no other spelling names the same key.
pub fn parse_order_id(text: &str) -> Option<u128> {
    let valid = text.len() == uuid::fmt::Simple::LENGTH
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b));
    valid.then(|| u128::from_str_radix(text, 16).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The orderID as `uuid` computes it, the reference for the faster path.
    fn reference(campaign: &str, digits: &str) -> String {
        let name = format!("{campaign}:+{digits}");
        let mut hex = [0u8; uuid::fmt::Simple::LENGTH];
        Uuid::new_v5(&NAMESPACE, name.as_bytes())
            .simple()
            .encode_upper(&mut hex)
            .to_owned()
    }

    #[test]
    fn ids_are_stable_uppercase_hex() {
        let id = order_id("spring-renewal", "+447700900200");
        assert_eq!(id.len(), 32);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
        // Pinned (computed independently with Python's uuid.uuid5): changing the namespace or
        // the name encoding changes every id in state.
        assert_eq!(id, "0B20F5F85DB453F49CE55BE4E0D07A44");
    }

    #[test]
    fn plus_is_optional_and_long_names_work() {
        assert_eq!(
            order_id("c", "447700900200"),
            order_id("c", "+447700900200")
        );
        let long_name = "x".repeat(200);
        assert_eq!(
            order_id(&long_name, "447700900200"),
            reference(&long_name, "447700900200")
        );
    }

    #[test]
    fn campaign_and_number_both_matter() {
        assert_ne!(
            order_id("a", "+447700900200"),
            order_id("b", "+447700900200")
        );
        assert_ne!(
            order_id("a", "+447700900200"),
            order_id("a", "+447700900201")
        );
    }

    proptest! {
        /// The hashed-in-parts UUID v5 is `Uuid::new_v5` of the whole name, for any campaign
        /// name (of any length: the name spans one SHA-1 block or several) and number.
        #[test]
        fn ids_are_uuid_v5_of_the_name(campaign in "[a-z0-9-]{0,150}", digits in "[1-9][0-9]{0,19}") {
            let id = order_id_of_digits(&campaign, &digits);
            prop_assert_eq!(&id, &reference(&campaign, &digits));
            prop_assert_eq!(parse_order_id(&id), Some(order_key(&campaign, &digits)));
            prop_assert_eq!(parse_order_id(&id.to_lowercase()), None);
        }
    }
}
