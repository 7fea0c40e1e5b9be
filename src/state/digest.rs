//! The check value recorded with each intent: a sum of one hash per number, so it does not
//! depend on the order rows come back in, and a change to any one stored orderID or number
//! (a flipped bit) changes it.
//!
//! FNV-1a is written out here rather than taken from a hashing crate: the value is stored, so
//! it must never change with a dependency's version. Each of its steps is a bijection of the
//! running hash, so two inputs of the same length that differ anywhere always hash differently.

/// The running check over some numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Check {
    sum: u64,
    count: i64,
}

impl Check {
    /// Adds one number, its orderID given by its 128 bits. The hash is over the orderID's text
    /// (32 uppercase hex digits), as format 2 stored it, so check values recorded then still
    /// hold for the same numbers now kept in 16 bytes.
    pub fn add(&mut self, order_id: u128, phone: i64) {
        let mut text = [0u8; 32];
        let hex = b"0123456789ABCDEF";
        for (i, byte) in text.iter_mut().enumerate() {
            *byte = hex[((order_id >> (124 - 4 * i)) & 0xf) as usize];
        }
        self.sum = self.sum.wrapping_add(row_hash(&text, phone));
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

fn row_hash(order_id: &[u8], phone: i64) -> u64 {
    fnv1a(
        order_id
            .iter()
            .copied()
            .chain([0xff])
            .chain(phone.to_le_bytes()),
    )
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

    fn check(rows: &[(u128, i64)]) -> Check {
        let mut check = Check::default();
        for (order_id, phone) in rows {
            check.add(*order_id, *phone);
        }
        check
    }

    #[test]
    fn the_order_of_rows_does_not_matter() {
        let a = check(&[(0xA1, 447700900001), (0xB2, 447700900002)]);
        let b = check(&[(0xB2, 447700900002), (0xA1, 447700900001)]);
        assert_eq!(a, b);
        assert_eq!(a.count(), 2);
        let mut merged = check(&[(0xA1, 447700900001)]);
        merged.merge(check(&[(0xB2, 447700900002)]));
        assert_eq!(merged, a);
    }

    #[test]
    fn every_single_bit_flip_changes_the_value() {
        let order_id = 0xFFDD_1791_E22F_4D9D_BA96_7C24_5C58_E544_u128;
        let phone = 447_700_900_123_i64;
        let original = check(&[(order_id, phone)]).value();
        for bit in 0..63 {
            let flipped = check(&[(order_id, phone ^ (1 << bit))]).value();
            assert_ne!(flipped, original, "phone bit {bit}");
        }
        for bit in 0..128 {
            let flipped = check(&[(order_id ^ (1 << bit), phone)]).value();
            assert_ne!(flipped, original, "orderID bit {bit}");
        }
    }

    #[test]
    fn the_value_is_that_of_the_order_id_text_format_2_hashed() {
        let text = b"FFDD1791E22F4D9DBA967C245C58E544";
        let phone = 447_700_900_123_i64;
        let expected = fnv1a(
            text.iter()
                .copied()
                .chain([0xff])
                .chain(phone.to_le_bytes()),
        );
        let check = check(&[(0xFFDD_1791_E22F_4D9D_BA96_7C24_5C58_E544, phone)]);
        assert_eq!(check.value(), i64::from_ne_bytes(expected.to_ne_bytes()));
    }

    #[test]
    fn fnv1a_matches_its_published_vectors() {
        assert_eq!(fnv1a(*b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(*b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(*b"foobar"), 0x8594_4171_f739_67e8);
    }
}
