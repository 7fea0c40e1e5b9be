//! The check value recorded with each intent: a sum of one hash per number, so it does not
//! depend on the order rows come back in, and a change to any one stored number (a flipped
//! bit) changes it.
//!
//! FNV-1a is written out here rather than taken from a hashing crate: the value is stored, so
//! it must never change with a dependency's version. Each of its steps is a bijection of the
//! running hash, so two inputs of the same length that differ anywhere always hash differently.

use std::collections::HashMap;
use std::hash::Hash;

/// The running check over some numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Check {
    sum: u64,
    count: i64,
}

impl Check {
    /// Adds one number (its E.164 integer). The orderID is not part of it: state keeps none,
    /// since the store takes only the orderID derived from the campaign and the number.
    pub fn add(&mut self, phone: i64) {
        self.sum = self.sum.wrapping_add(fnv1a(phone.to_le_bytes()));
        self.count += 1;
    }

    /// Adds one number as the check values of the formats that stored orderIDs (SQLite 2 and
    /// 3, PostgreSQL 1 and 2) did: over the orderID's text (32 uppercase hex digits) and the
    /// number. Only upgrades compute it, to prove the rows they carry over are those recorded.
    pub fn add_with_order_id(&mut self, order_id: u128, phone: i64) {
        let mut text = [0u8; 32];
        let hex = b"0123456789ABCDEF";
        for (i, byte) in text.iter_mut().enumerate() {
            *byte = hex[((order_id >> (124 - 4 * i)) & 0xf) as usize];
        }
        let row = text
            .iter()
            .copied()
            .chain([0xff])
            .chain(phone.to_le_bytes());
        self.sum = self.sum.wrapping_add(fnv1a(row));
        self.count += 1;
    }

    /// Adds everything `other` holds.
    pub fn merge(&mut self, other: Check) {
        self.sum = self.sum.wrapping_add(other.sum);
        self.count += other.count;
    }

    pub fn count(&self) -> i64 {
        self.count
    }

    /// The value as stored (an integer column in both backends).
    pub fn value(&self) -> i64 {
        i64::from_ne_bytes(self.sum.to_ne_bytes())
    }
}

/// What an upgrade that stops storing orderIDs (SQLite format 3 to 4, PostgreSQL 2 to 3)
/// proves of the rows it carries over, and the check values it records for them. Attempts are
/// keyed by `K` (the attempt id, with its workspace in PostgreSQL).
#[derive(Debug)]
pub struct Recheck<K> {
    recorded: HashMap<K, Check>,
    now: HashMap<K, Check>,
}

impl<K: Hash + Eq + Clone + std::fmt::Debug> Recheck<K> {
    pub fn new() -> Self {
        Recheck {
            recorded: HashMap::new(),
            now: HashMap::new(),
        }
    }

    /// Takes one stored row, refusing an orderID that is not the one derived from its campaign
    /// and number (one the store would never have taken).
    pub fn add(
        &mut self,
        attempt: K,
        campaign: &str,
        order_id: u128,
        phone: i64,
    ) -> Result<(), String> {
        if crate::nxcc::order_id::order_key(campaign, &phone.to_string()) != order_id {
            return Err(format!(
                "the stored orderID {} of campaign {campaign} is not the one campaignctl \
                 derives for its number",
                crate::nxcc::order_id::order_id_text(order_id)
            ));
        }
        self.recorded
            .entry(attempt.clone())
            .or_default()
            .add_with_order_id(order_id, phone);
        self.now.entry(attempt).or_default().add(phone);
        Ok(())
    }

    /// Proves a live attempt's rows are those recorded with its intent (`count` numbers under
    /// check value `digest`), naming it `shown` when they are not.
    pub fn verify(
        &mut self,
        attempt: &K,
        count: i64,
        digest: i64,
        shown: &str,
    ) -> Result<(), String> {
        let check = self.recorded.remove(attempt).unwrap_or_default();
        if check.count() != count || check.value() != digest {
            return Err(format!(
                "the numbers of {shown} no longer match what was recorded when it was sent"
            ));
        }
        Ok(())
    }

    /// Once every live attempt is verified: each attempt's new check value, or the refusal of
    /// numbers that belong to no live attempt.
    pub fn finish(self) -> Result<HashMap<K, Check>, String> {
        match self.recorded.into_keys().next() {
            Some(orphan) => Err(format!(
                "numbers belong to attempt {orphan:?}, which is not live"
            )),
            None => Ok(self.now),
        }
    }
}

/// 64-bit FNV-1a of `bytes`.
pub fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.into_iter().fold(OFFSET, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(phones: &[i64]) -> Check {
        let mut check = Check::default();
        for phone in phones {
            check.add(*phone);
        }
        check
    }

    #[test]
    fn the_order_of_rows_does_not_matter() {
        let a = check(&[447700900001, 447700900002]);
        let b = check(&[447700900002, 447700900001]);
        assert_eq!(a, b);
        assert_eq!(a.count(), 2);
        let mut merged = check(&[447700900001]);
        merged.merge(check(&[447700900002]));
        assert_eq!(merged, a);
    }

    #[test]
    fn every_single_bit_flip_changes_the_value() {
        let phone = 447_700_900_123_i64;
        let original = check(&[phone]).value();
        for bit in 0..63 {
            let flipped = check(&[phone ^ (1 << bit)]).value();
            assert_ne!(flipped, original, "phone bit {bit}");
        }
        let order_id = 0xFFDD_1791_E22F_4D9D_BA96_7C24_5C58_E544_u128;
        let mut with_id = Check::default();
        with_id.add_with_order_id(order_id, phone);
        for bit in 0..128 {
            let mut flipped = Check::default();
            flipped.add_with_order_id(order_id ^ (1 << bit), phone);
            assert_ne!(flipped.value(), with_id.value(), "orderID bit {bit}");
        }
    }

    #[test]
    fn the_older_formats_value_is_that_of_the_order_id_text_hashed() {
        let text = b"FFDD1791E22F4D9DBA967C245C58E544";
        let phone = 447_700_900_123_i64;
        let expected = fnv1a(
            text.iter()
                .copied()
                .chain([0xff])
                .chain(phone.to_le_bytes()),
        );
        let mut check = Check::default();
        check.add_with_order_id(0xFFDD_1791_E22F_4D9D_BA96_7C24_5C58_E544, phone);
        assert_eq!(check.value(), i64::from_ne_bytes(expected.to_ne_bytes()));
    }

    #[test]
    fn the_value_is_the_sum_of_each_numbers_hash() {
        let phone = 447_700_900_123_i64;
        assert_eq!(
            check(&[phone]).value(),
            i64::from_ne_bytes(fnv1a(phone.to_le_bytes()).to_ne_bytes())
        );
    }

    #[test]
    fn fnv1a_matches_its_published_vectors() {
        assert_eq!(fnv1a(*b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(*b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(*b"foobar"), 0x8594_4171_f739_67e8);
    }
}
