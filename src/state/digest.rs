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
    pub fn add(&mut self, order_id: &str, phone: i64) {
        self.sum = self.sum.wrapping_add(row_hash(order_id, phone));
        self.count += 1;
    }

    pub fn count(&self) -> i64 {
        self.count
    }

    /// The value as stored (an integer column in both backends).
    pub fn value(&self) -> i64 {
        i64::from_ne_bytes(self.sum.to_ne_bytes())
    }
}

fn row_hash(order_id: &str, phone: i64) -> u64 {
    fnv1a(order_id.bytes().chain([0xff]).chain(phone.to_le_bytes()))
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

    fn check(rows: &[(&str, i64)]) -> Check {
        let mut check = Check::default();
        for (order_id, phone) in rows {
            check.add(order_id, *phone);
        }
        check
    }

    #[test]
    fn the_order_of_rows_does_not_matter() {
        let a = check(&[("A1", 447700900001), ("B2", 447700900002)]);
        let b = check(&[("B2", 447700900002), ("A1", 447700900001)]);
        assert_eq!(a, b);
        assert_eq!(a.count(), 2);
    }

    #[test]
    fn every_single_bit_flip_changes_the_value() {
        let order_id = "FFDD1791E22F4D9DBA967C245C58E544";
        let phone = 447_700_900_123_i64;
        let original = check(&[(order_id, phone)]).value();
        for bit in 0..63 {
            let flipped = check(&[(order_id, phone ^ (1 << bit))]).value();
            assert_ne!(flipped, original, "phone bit {bit}");
        }
        for index in 0..order_id.len() {
            for bit in 0..7 {
                let mut bytes = order_id.as_bytes().to_vec();
                bytes[index] ^= 1 << bit;
                let Ok(text) = String::from_utf8(bytes) else {
                    continue;
                };
                assert_ne!(check(&[(&text, phone)]).value(), original, "{index}:{bit}");
            }
        }
    }

    #[test]
    fn fnv1a_matches_its_published_vectors() {
        assert_eq!(fnv1a(*b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(*b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(*b"foobar"), 0x8594_4171_f739_67e8);
    }
}
