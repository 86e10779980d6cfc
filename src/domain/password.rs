//! Password hashes kept from the Python back office: Django's `pbkdf2_sha256` and `pbkdf2_sha1`
//! hashers (`DJANGO_DB.md`), checked until the account's first sign-in replaces them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use pbkdf2::pbkdf2_hmac;
use subtle::ConstantTimeEq;

/// A hash asking for more rounds than this is refused rather than tying a thread up for
/// minutes: Django itself used 1,200,000 in 2025.
const MAX_ITERATIONS: u32 = 20_000_000;

/// The algorithms of Django's PBKDF2 hashers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Algorithm {
    Sha256,
    Sha1,
}

/// `<algorithm>$<iterations>$<salt>$<base64 hash>`, split and checked.
struct DjangoHash<'a> {
    algorithm: Algorithm,
    iterations: u32,
    salt: &'a str,
    expected: Vec<u8>,
}

fn parse(stored: &str) -> Option<DjangoHash<'_>> {
    let mut parts = stored.splitn(4, '$');
    let algorithm = match parts.next()? {
        "pbkdf2_sha256" => Algorithm::Sha256,
        "pbkdf2_sha1" => Algorithm::Sha1,
        _ => return None,
    };
    let iterations = parts.next()?.parse().ok()?;
    let salt = parts.next()?;
    let expected = STANDARD.decode(parts.next()?).ok()?;
    let length = match algorithm {
        Algorithm::Sha256 => 32,
        Algorithm::Sha1 => 20,
    };
    let usable = (1..=MAX_ITERATIONS).contains(&iterations) && expected.len() == length;
    usable.then_some(DjangoHash {
        algorithm,
        iterations,
        salt,
        expected,
    })
}

/// Whether `stored` names one of Django's PBKDF2 hashers, well formed or not.
pub fn is_django(stored: &str) -> bool {
    stored.starts_with("pbkdf2_sha256$") || stored.starts_with("pbkdf2_sha1$")
}

/// Whether a Django PBKDF2 hash asks for more rounds than `MAX_ITERATIONS`.
pub fn too_costly(stored: &str) -> bool {
    let rounds = stored.split('$').nth(1).unwrap_or_default();
    !rounds.is_empty()
        && rounds.bytes().all(|b| b.is_ascii_digit())
        && !rounds.parse::<u32>().is_ok_and(|r| r <= MAX_ITERATIONS)
}

/// Whether `password` matches a Django PBKDF2 hash, compared in constant time; a malformed hash
/// matches nothing.
pub fn verify_django(password: &str, stored: &str) -> bool {
    let Some(hash) = parse(stored) else {
        return false;
    };
    let mut derived = vec![0u8; hash.expected.len()];
    let (password, salt) = (password.as_bytes(), hash.salt.as_bytes());
    match hash.algorithm {
        Algorithm::Sha256 => {
            pbkdf2_hmac::<sha2::Sha256>(password, salt, hash.iterations, &mut derived)
        }
        Algorithm::Sha1 => pbkdf2_hmac::<sha1::Sha1>(password, salt, hash.iterations, &mut derived),
    }
    derived.ct_eq(&hash.expected).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vectors of `DJANGO_DB.md`, made with Django's own hasher.
    const SHA256_260K: &str =
        "pbkdf2_sha256$260000$wifTestSalt2018$vRbrIXHEUuZ4gvgo57xiiX7qpXQxr/6qmOWqPICLbLA=";
    const SHA256_100K: &str =
        "pbkdf2_sha256$100000$seedSalt$vb8SWn+NeKf51onW0PGqpYy5w53s42I/ABJa6mGB/70=";

    #[test]
    fn django_test_vectors_match_their_password_only() {
        assert!(verify_django("correct horse battery staple", SHA256_260K));
        assert!(verify_django("mot de passe du back office", SHA256_100K));
        assert!(!verify_django("correct horse battery stapl", SHA256_260K));
        assert!(!verify_django("mot de passe du back office", SHA256_260K));
        assert!(!verify_django("", SHA256_100K));
    }

    #[test]
    fn sha1_hashes_are_read_too() {
        // PBKDF2-HMAC-SHA1 of "password", salt "salt", 2 rounds: RFC 6070's second vector.
        let stored = format!(
            "pbkdf2_sha1$2$salt${}",
            STANDARD.encode([
                0xea, 0x6c, 0x01, 0x4d, 0xc7, 0x2d, 0x6f, 0x8c, 0xcd, 0x1e, 0xd9, 0x2a, 0xce, 0x1d,
                0x41, 0xf0, 0xd8, 0xde, 0x89, 0x57,
            ])
        );
        assert!(is_django(&stored));
        assert!(verify_django("password", &stored));
        assert!(!verify_django("Password", &stored));
    }

    #[test]
    fn malformed_hashes_match_nothing() {
        for stored in [
            "pbkdf2_sha256$260000$wifTestSalt2018",
            "pbkdf2_sha256$abc$wifTestSalt2018$vRbrIXHEUuZ4gvgo57xiiX7qpXQxr/6qmOWqPICLbLA=",
            "pbkdf2_sha256$0$wifTestSalt2018$vRbrIXHEUuZ4gvgo57xiiX7qpXQxr/6qmOWqPICLbLA=",
            "pbkdf2_sha256$260000$wifTestSalt2018$not base64!",
            "pbkdf2_sha256$260000$wifTestSalt2018$dGVzdA==",
            "pbkdf2_sha512$260000$wifTestSalt2018$vRbrIXHEUuZ4gvgo57xiiX7qpXQxr/6qmOWqPICLbLA=",
            "!unusable",
        ] {
            assert!(
                !verify_django("correct horse battery staple", stored),
                "{stored}"
            );
        }
        assert!(!is_django("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"));
        // Refused before any hashing (checked on `parse`, so that a broken bound fails here
        // instead of hashing for minutes): too many rounds, none, or a hash of the wrong length.
        let digest = "vRbrIXHEUuZ4gvgo57xiiX7qpXQxr/6qmOWqPICLbLA=";
        assert!(parse(&format!("pbkdf2_sha256$20000000$s${digest}")).is_some());
        assert!(parse(&format!("pbkdf2_sha256$20000001$s${digest}")).is_none());
        assert!(parse(&format!("pbkdf2_sha256$0$s${digest}")).is_none());
        assert!(parse("pbkdf2_sha256$1$s$dGVzdA==").is_none());
        assert!(!is_django("!pbkdf2_sha256$1$a$b"));
    }
}
