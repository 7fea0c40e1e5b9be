//! Request signing, as the provider's "API auth basics" describe it.
//!
//! `sign = lowercase_hex(HASH(headersStr + bodyStr + secretStr))`, where `headersStr` is the signed
//! headers sorted by name and joined as `name=value&...`, `bodyStr` is `&body=<exact body>` (left out
//! only for an empty body) and `secretStr` is `&accessSecret=<secret>`.

use md5::Md5;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// The createandcall API's `action` header value.
pub const ACTION_CC: &str = "cc";
/// The createandcall API's `bizType` header value.
pub const BIZ_TYPE_CC: &str = "8";

/// The hash behind a signature, chosen by the `algorithm` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SignAlgorithm {
    /// MD5, the provider's default when no `algorithm` header is sent.
    #[default]
    Md5,
    Sha256,
}

impl SignAlgorithm {
    /// Every hash, in the order help lists them.
    pub const ALL: [SignAlgorithm; 2] = [SignAlgorithm::Md5, SignAlgorithm::Sha256];

    /// The value of the `algorithm` header that selects this hash.
    pub fn header_value(self) -> &'static str {
        match self {
            SignAlgorithm::Md5 => "md5",
            SignAlgorithm::Sha256 => "sha256",
        }
    }

    /// Reads an `algorithm` header value; `None` for a hash the provider does not offer.
    pub fn from_header_value(value: &str) -> Option<Self> {
        if value.eq_ignore_ascii_case("md5") {
            Some(SignAlgorithm::Md5)
        } else if value.eq_ignore_ascii_case("sha256") {
            Some(SignAlgorithm::Sha256)
        } else {
            None
        }
    }
}

impl std::fmt::Display for SignAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.header_value())
    }
}

/// The signature of a createandcall request (`action=cc`, `bizType=8`).
///
/// `body` must be the exact text that is sent: any re-serialization changes the signature.
pub fn sign(
    access_key: &str,
    ts_millis: u64,
    body: &str,
    secret: &SecretString,
    algorithm: SignAlgorithm,
) -> String {
    let ts = ts_millis.to_string();
    sign_headers(
        &[
            ("accessKey", access_key),
            ("action", ACTION_CC),
            ("bizType", BIZ_TYPE_CC),
            ("ts", &ts),
        ],
        body.as_bytes(),
        secret.expose_secret(),
        algorithm,
    )
}

/// The signature over any set of signed headers, for the provider's other APIs and for checking
/// a received request, whose body may not even be UTF-8.
///
/// `headers` must not contain `sign` or `algorithm`: neither is signed.
pub fn sign_headers(
    headers: &[(&str, &str)],
    body: &[u8],
    secret: &str,
    algorithm: SignAlgorithm,
) -> String {
    match algorithm {
        SignAlgorithm::Md5 => digest_hex::<Md5>(headers, body, secret),
        SignAlgorithm::Sha256 => digest_hex::<Sha256>(headers, body, secret),
    }
}

/// Feeds the parts to the hash one by one, so that no copy of the (possibly large) body or of
/// the secret is ever assembled in memory.
fn digest_hex<D: Digest>(headers: &[(&str, &str)], body: &[u8], secret: &str) -> String {
    let mut sorted: Vec<&(&str, &str)> = headers.iter().collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));

    let mut hasher = D::new();
    for (i, (name, value)) in sorted.into_iter().enumerate() {
        if i > 0 {
            hasher.update(b"&");
        }
        hasher.update(name.as_bytes());
        hasher.update(b"=");
        hasher.update(value.as_bytes());
    }
    if !body.is_empty() {
        hasher.update(b"&body=");
        hasher.update(body);
    }
    hasher.update(b"&accessSecret=");
    hasher.update(secret.as_bytes());
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "fme2na3kdi3ki";
    const SECRET: &str = "abciiiko2k3";
    const TS: u64 = 1655710885431;
    const CREATE_BODY: &str = r#"{"taskDesc":"Description","callList":[{"userPhone":"85235757581","other":"OTHER","orderID":"ORDER_ID"}],"country":"HK","dispatchType":0,"predictCallRate":1.0,"agentGroupNo":"NX09445G000025","taskName":"Task Name","strategyName":"Default Strategy","startCount":1,"ratioCallRate":1.0,"startupType":3}"#;

    fn secret() -> SecretString {
        SecretString::from(SECRET)
    }

    #[test]
    fn vector_1_docs_example_with_other_action() {
        // Given out of order on purpose: the headers are sorted before hashing.
        let got = sign_headers(
            &[
                ("ts", "1655710885431"),
                ("bizType", "1"),
                ("action", "send"),
                ("accessKey", KEY),
            ],
            r#"{"name":"牛小信","id":10001}"#.as_bytes(),
            SECRET,
            SignAlgorithm::Md5,
        );
        assert_eq!(got, "87c3560d3331ae23f1021e2025722354");
    }

    #[test]
    fn vector_2_createandcall_md5() {
        let got = sign(KEY, TS, CREATE_BODY, &secret(), SignAlgorithm::Md5);
        assert_eq!(got, "ca0a5e966edd3f7a8284d370dd075221");
    }

    #[test]
    fn vector_2_createandcall_sha256() {
        let got = sign(KEY, TS, CREATE_BODY, &secret(), SignAlgorithm::Sha256);
        assert_eq!(
            got,
            "c22cdf248f57aebff4873deb262106c0c93e1ffe9df08bd006136e220eed1dc6"
        );
    }

    #[test]
    fn vector_3_empty_body_has_no_body_part() {
        let got = sign(KEY, TS, "", &secret(), SignAlgorithm::Md5);
        assert_eq!(got, "27fc759bcecce7cc5f6c5da3e18164b3");
    }

    #[test]
    fn sign_and_sign_headers_agree() {
        let a = sign(KEY, TS, CREATE_BODY, &secret(), SignAlgorithm::Sha256);
        let b = sign_headers(
            &[
                ("accessKey", KEY),
                ("action", "cc"),
                ("bizType", "8"),
                ("ts", "1655710885431"),
            ],
            CREATE_BODY.as_bytes(),
            SECRET,
            SignAlgorithm::Sha256,
        );
        assert_eq!(a, b);
    }

    #[test]
    fn one_changed_byte_changes_the_signature() {
        let spaced = CREATE_BODY.replacen(':', ": ", 1);
        for algorithm in [SignAlgorithm::Md5, SignAlgorithm::Sha256] {
            assert_ne!(
                sign(KEY, TS, CREATE_BODY, &secret(), algorithm),
                sign(KEY, TS, &spaced, &secret(), algorithm)
            );
        }
    }

    #[test]
    fn algorithm_header_values_round_trip() {
        for algorithm in [SignAlgorithm::Md5, SignAlgorithm::Sha256] {
            assert_eq!(
                SignAlgorithm::from_header_value(algorithm.header_value()),
                Some(algorithm)
            );
        }
        assert_eq!(
            SignAlgorithm::from_header_value("SHA256"),
            Some(SignAlgorithm::Sha256)
        );
        assert_eq!(SignAlgorithm::from_header_value("sha1"), None);
        assert_eq!(SignAlgorithm::default(), SignAlgorithm::Md5);
    }
}
