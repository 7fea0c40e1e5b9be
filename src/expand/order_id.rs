//! Deterministic orderIDs: the same campaign and number always give the same id, so a re-plan
//! yields the same requests and state can recognise every number it has sent.

use uuid::Uuid;

/// The UUID v5 namespace of campaignctl's orderIDs: a random UUID chosen once. Changing it
/// would change every orderID, so state written before would no longer match.
const NAMESPACE: Uuid = Uuid::from_u128(0xfc18_23c9_b8d5_42db_a93f_a228_20c6_3cce);

/// The orderID of the number `e164` (with or without its `+`) in `campaign`: the UUID v5, in
/// [`NAMESPACE`], of the UTF-8 text `{campaign}:+{digits}`, as 32 uppercase hex digits.
pub fn order_id(campaign: &str, e164: &str) -> String {
    order_id_of_digits(campaign, e164.strip_prefix('+').unwrap_or(e164))
}

/// [`order_id`] of a number's E.164 digits (no `+`), without allocating its name: expansion
/// computes a million of these.
pub(crate) fn order_id_of_digits(campaign: &str, digits: &str) -> String {
    // A campaign name has at most 64 characters and a number at most 20 digits, so the name
    // fits; a longer one (the schema forbids it) takes the allocating path.
    let mut buffer = [0u8; 96];
    let parts = [campaign.as_bytes(), b":+", digits.as_bytes()];
    let length: usize = parts.iter().map(|part| part.len()).sum();
    if length > buffer.len() {
        return encode(&format!("{campaign}:+{digits}"));
    }
    let mut end = 0;
    for part in parts {
        buffer[end..end + part.len()].copy_from_slice(part);
        end += part.len();
    }
    encode_bytes(&buffer[..end])
}

fn encode(name: &str) -> String {
    encode_bytes(name.as_bytes())
}

fn encode_bytes(name: &[u8]) -> String {
    let mut hex = [0u8; uuid::fmt::Simple::LENGTH];
    Uuid::new_v5(&NAMESPACE, name)
        .simple()
        .encode_upper(&mut hex)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

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
            encode(&format!("{long_name}:+447700900200"))
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
}
