//! Random tokens, hexadecimal, and comparing secrets in constant time: one helper each, for the
//! sessions, the CSRF check, the webhooks' signatures and the demonstration.

use std::fmt::Write;

use subtle::ConstantTimeEq;

/// 32 random bytes in hexadecimal.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).expect("the system has a random source");
    hex(&bytes)
}

/// Bytes in lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        write!(text, "{byte:02x}").expect("writing to a String cannot fail");
    }
    text
}

/// The bytes of hexadecimal text (either case); `None` for anything else, signs included.
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// Whether two secrets are equal, in a time that does not depend on where they differ (`subtle`).
pub fn same(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hexadecimal_both_ways() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
        assert_eq!(hex(&[]), "");
        assert_eq!(from_hex("000fa0ff"), Some(vec![0x00, 0x0f, 0xa0, 0xff]));
        assert_eq!(from_hex("A0Ff"), Some(vec![0xa0, 0xff]));
        assert_eq!(from_hex(""), Some(vec![]));
        // Rust's integer parsing would take `+f` for 15.
        for wrong in ["+f", "0", "0g", " 0f", "0x0f", "é0"] {
            assert_eq!(from_hex(wrong), None, "{wrong}");
        }
    }

    #[test]
    fn tokens_are_64_hexadecimal_digits_and_differ() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert!(from_hex(&a).is_some());
        assert_ne!(a, b);
    }

    #[test]
    fn secrets_are_equal_only_when_every_byte_is() {
        assert!(same("abc", "abc"));
        assert!(same("", ""));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
        assert!(!same("ab", "abc"));
        assert!(!same("", "a"));
    }
}
