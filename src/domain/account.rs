//! Back-office accounts: what a valid username, e-mail and password are; Argon2id hashing, and
//! the hashes kept from the Python back office until their owner signs in.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use super::password;

pub const MIN_LENGTH: usize = 12;

/// A username: 1 to 150 letters, digits and `@.+-_` (Django's rule, so seed accounts fit).
pub fn check_username(username: &str) -> Result<(), &'static str> {
    let valid_chars = username
        .chars()
        .all(|c| c.is_alphanumeric() || "@.+-_".contains(c));
    if username.is_empty() || username.chars().count() > 150 || !valid_chars {
        return Err("le nom d'utilisateur doit compter 1 à 150 lettres, chiffres ou @ . + - _");
    }
    Ok(())
}

/// An e-mail address of the form `local@domain.tld`, without spaces or control characters.
pub fn check_email(email: &str) -> Result<(), &'static str> {
    let valid = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
    }) && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if !valid {
        return Err("l'adresse e-mail n'est pas valide (exemple : prenom.nom@dreets.gouv.fr)");
    }
    Ok(())
}

/// Why a password is refused, in a sentence an agent can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    #[error("le mot de passe est trop court : {MIN_LENGTH} caractères au moins")]
    TooShort,
    #[error("le mot de passe ne doit pas être composé uniquement de chiffres")]
    OnlyDigits,
    #[error("le mot de passe est trop proche du nom d'utilisateur ou de l'adresse e-mail")]
    TooSimilar,
}

/// Checks a new password against the rules; `username` and `email` are the account's.
pub fn check_strength(password: &str, username: &str, email: &str) -> Result<(), WeakPassword> {
    if password.chars().count() < MIN_LENGTH {
        return Err(WeakPassword::TooShort);
    }
    if password.chars().all(|c| c.is_ascii_digit()) {
        return Err(WeakPassword::OnlyDigits);
    }
    let password = password.to_lowercase();
    let attributes = [username, email, email.split('@').next().unwrap_or_default()];
    let parts = attributes.into_iter().flat_map(|attribute| {
        let attribute = attribute.to_lowercase();
        let words: Vec<String> = attribute
            .split(|c: char| !c.is_alphabetic())
            .filter(|w| w.chars().count() >= 3)
            .map(str::to_owned)
            .collect();
        std::iter::once(attribute).chain(words)
    });
    for part in parts {
        if part.chars().count() >= 3
            && (password.contains(&part) || similarity(&password, &part) >= 0.7)
        {
            return Err(WeakPassword::TooSimilar);
        }
    }
    Ok(())
}

/// `2 × LCS / (|a| + |b|)`: 1.0 for equal texts, close to Python's `SequenceMatcher.ratio`.
fn similarity(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let mut previous = vec![0usize; b.len() + 1];
    for x in &a {
        let mut current = vec![0usize; b.len() + 1];
        for (j, y) in b.iter().enumerate() {
            current[j + 1] = if x == y {
                previous[j] + 1
            } else {
                previous[j + 1].max(current[j])
            };
        }
        previous = current;
    }
    2.0 * previous[b.len()] as f64 / (a.len() + b.len()) as f64
}

/// An Argon2id hash in PHC format, with a random salt.
pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2 with default parameters accepts any password")
        .to_string()
}

/// Whether a PHC string is an Argon2id hash with the parameters `hash` writes. Any other is
/// refused unverified: a stored hash must not choose its own cost (`m=8,t=2000000` takes
/// seconds, and the maximum hours).
fn ours(parsed: &PasswordHash) -> bool {
    let default = Params::default();
    parsed.algorithm == Algorithm::Argon2id.ident()
        && parsed.version == Some(u32::from(Version::V0x13))
        && Params::try_from(parsed).is_ok_and(|params| {
            (params.m_cost(), params.t_cost(), params.p_cost())
                == (default.m_cost(), default.t_cost(), default.p_cost())
                && params.output_len() == Some(Params::DEFAULT_OUTPUT_LEN)
        })
}

/// Whether `password` matches a stored hash: ours (Argon2id) or a Django one kept by the
/// import. A malformed hash, one that declares a cost we do not pay (`too_costly`) and an
/// unusable one (`!…`, Django's `set_unusable_password`) match nothing.
pub fn verify(password: &str, stored_hash: &str) -> bool {
    match kind(stored_hash) {
        HashKind::Argon2 => PasswordHash::new(stored_hash).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        }),
        HashKind::Django => password::verify_django(password, stored_hash),
        HashKind::Unusable => false,
    }
}

/// Whether a stored hash declares a cost this program refuses to pay: Argon2 parameters other
/// than ours, or more PBKDF2 rounds than the cap. It matches nothing, unverified.
pub fn too_costly(stored_hash: &str) -> bool {
    if password::is_django(stored_hash) {
        return password::too_costly(stored_hash);
    }
    stored_hash.starts_with('$') && PasswordHash::new(stored_hash).is_ok_and(|p| !ours(&p))
}

/// Whether a hash that just matched must be replaced by `hash(password)`: Django's are.
pub fn needs_rehash(stored_hash: &str) -> bool {
    kind(stored_hash) == HashKind::Django
}

/// What a stored hash is, for the sign-in and for the administrators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashKind {
    /// Ours.
    Argon2,
    /// Kept from the Python back office, replaced at the next sign-in.
    Django,
    /// Matches no password: an administrator must set one.
    Unusable,
}

pub fn kind(stored_hash: &str) -> HashKind {
    if stored_hash.starts_with('!') {
        HashKind::Unusable
    } else if password::is_django(stored_hash) {
        HashKind::Django
    } else if PasswordHash::new(stored_hash).is_ok_and(|parsed| ours(&parsed)) {
        HashKind::Argon2
    } else {
        HashKind::Unusable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_emails_are_checked() {
        assert!(check_username("marie.curie").is_ok());
        assert!(check_username("agent_75+2@dreets").is_ok());
        assert!(check_username("").is_err());
        assert!(check_username("marie curie").is_err());
        assert!(check_username(&"a".repeat(151)).is_err());
        assert!(check_username(&"a".repeat(150)).is_ok());
        // The limit counts characters: 150 accented letters are 300 bytes.
        assert!(check_username(&"é".repeat(150)).is_ok());
        assert!(check_username(&"é".repeat(151)).is_err());
        assert!(check_email("marie.curie@dreets.gouv.fr").is_ok());
        for bad in [
            "marie",
            "@dreets.gouv.fr",
            "marie@",
            "marie@gouv",
            "ma rie@x.fr",
            "a@b@c.fr",
            "a@.fr",
            "marie@dreets.gouv.",
            "marie\u{1b}[31m@dreets.gouv.fr",
            "marie@dreets.gouv.fr\u{7}",
            "marie@dreets.gouv.fr\r\nBcc: x@y.fr",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_short_numeric_and_similar_passwords() {
        let check = |p| check_strength(p, "marie.curie", "marie.curie@dreets.gouv.fr");
        assert_eq!(check("court123"), Err(WeakPassword::TooShort));
        assert_eq!(check("123456789012345"), Err(WeakPassword::OnlyDigits));
        assert_eq!(check("marie.curie2024"), Err(WeakPassword::TooSimilar));
        assert_eq!(check("Marie.Curie!!"), Err(WeakPassword::TooSimilar));
        assert_eq!(check("xx-curie-radium-1903"), Err(WeakPassword::TooSimilar));
        assert_eq!(check("dreets.gouv.fr"), Err(WeakPassword::TooSimilar));
        assert_eq!(
            check_strength("admin1234567", "admin2", "a@b.fr"),
            Err(WeakPassword::TooSimilar)
        );
        assert_eq!(check("correct cheval agrafe"), Ok(()));
    }

    #[test]
    fn a_password_similar_from_a_ratio_of_0_7_is_refused() {
        // LCS 7 over 12 + 8 characters: exactly 0.7, though it contains neither the username
        // nor a word of it.
        let check = |p| check_strength(p, "mcurie67", "marie@dreets.gouv.fr");
        assert_eq!(check("m-curie-1857"), Err(WeakPassword::TooSimilar));
        // One character more: 14 / 21, under 0.7.
        assert_eq!(check("m-curie-1857!"), Ok(()));
        // Similar to the e-mail's local part (9 × 2 / 24), not to the username.
        assert_eq!(
            check_strength("Sklodowsky1867", "agent", "sklodowska@dreets.gouv.fr"),
            Err(WeakPassword::TooSimilar)
        );
        assert_eq!(
            check_strength("Sklodowsky1867", "agent", "direction@dreets.gouv.fr"),
            Ok(())
        );
    }

    #[test]
    fn words_of_three_letters_count_shorter_ones_do_not() {
        assert_eq!(
            check_strength("bobsleigh-2024", "bob.smith", "contact@dreets.gouv.fr"),
            Err(WeakPassword::TooSimilar)
        );
        assert_eq!(
            check_strength("totally-original", "al.smith", "contact@dreets.gouv.fr"),
            Ok(())
        );
    }

    #[test]
    fn similarity_is_twice_the_common_subsequence_over_both_lengths() {
        assert_eq!(similarity("radium", "radium"), 1.0);
        assert_eq!(similarity("", ""), 1.0);
        assert_eq!(similarity("radium", ""), 0.0);
        assert_eq!(similarity("", "radium"), 0.0);
        assert_eq!(similarity("abc", "xyz"), 0.0);
        // "ium" in common.
        assert_eq!(similarity("polonium", "radium"), 6.0 / 14.0);
        // "bcd" in common, in whichever order the texts are given.
        assert_eq!(similarity("abcd", "bcde"), 0.75);
        assert_eq!(similarity("bcde", "abcd"), 0.75);
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert_eq!(
            check_strength("éééééééééé", "a", "a@b.c"),
            Err(WeakPassword::TooShort)
        );
        assert_eq!(check_strength("éàèùçôîâêëïü", "a", "a@b.c"), Ok(()));
    }

    #[test]
    fn hashes_are_argon2id_salted_and_verifiable() {
        let first = hash("correct cheval agrafe");
        let second = hash("correct cheval agrafe");
        assert!(first.starts_with("$argon2id$"));
        assert_ne!(first, second);
        assert!(verify("correct cheval agrafe", &first));
        assert!(!verify("correct cheval agrafé", &first));
        assert!(!verify("correct cheval agrafe", "not a hash"));
        assert_eq!(kind(&first), HashKind::Argon2);
        assert!(!needs_rehash(&first));
    }

    /// A PHC string with these parameters, a valid salt and a 32-byte output.
    fn phc(algorithm_and_params: &str) -> String {
        format!("${algorithm_and_params}$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    }

    #[test]
    fn our_own_argon2_parameters_are_accepted() {
        let ours = hash("correct cheval agrafe");
        // What `hash` writes is what `verify` accepts: a change of one without the other
        // would leave every account unable to sign in.
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        assert!(!too_costly(&ours));
        assert_eq!(kind(&ours), HashKind::Argon2);
        assert!(verify("correct cheval agrafe", &ours));
        let same_params = phc("argon2id$v=19$m=19456,t=2,p=1");
        assert_eq!(kind(&same_params), HashKind::Argon2);
        assert!(!too_costly(&same_params));
    }

    #[test]
    fn a_hash_declaring_another_cost_is_refused_unverified() {
        // Each of these would take seconds (or memory) to verify if its parameters were
        // believed; refused, it takes microseconds.
        for params in [
            "argon2id$v=19$m=8,t=2000000,p=1",
            "argon2id$v=19$m=19456,t=3,p=1",
            "argon2id$v=19$m=65536,t=2,p=1",
            "argon2id$v=19$m=19456,t=2,p=4",
            "argon2i$v=19$m=19456,t=2,p=1",
            "argon2d$v=19$m=19456,t=2,p=1",
            "argon2id$v=16$m=19456,t=2,p=1",
        ] {
            let stored = phc(params);
            assert!(too_costly(&stored), "{stored}");
            // `verify` hashes only what `kind` calls Argon2 or Django: these match nothing,
            // unverified.
            assert_eq!(kind(&stored), HashKind::Unusable, "{stored}");
            assert!(!verify("correct cheval agrafe", &stored), "{stored}");
        }
        // Hours or gigabytes if believed: never verified here, only recognised.
        for params in [
            "argon2id$v=19$m=8,t=4294967295,p=1",
            "argon2id$v=19$m=4194304,t=2,p=1",
        ] {
            assert!(too_costly(&phc(params)), "{params}");
            assert_eq!(kind(&phc(params)), HashKind::Unusable, "{params}");
        }
        // A longer output is a parameter too.
        let long = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$\
                    AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert!(too_costly(long));
        assert!(!too_costly("$not a phc string"));
    }

    #[test]
    fn django_argon2_hashes_are_not_taken_up() {
        // Django >= 4's Argon2PasswordHasher: 100 MiB and 8 lanes per check, more than our
        // own; the import keeps such an account with an unusable password.
        let django = "argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA";
        assert_eq!(kind(django), HashKind::Unusable);
        assert!(!too_costly(django));
        assert!(!verify("correct cheval agrafe", django));
    }

    #[test]
    fn the_pbkdf2_cap_is_kept() {
        let rounds = |n: &str| {
            format!("pbkdf2_sha256${n}$salt$vb8SWn+NeKf51onW0PGqpYy5w53s42I/ABJa6mGB/70=")
        };
        assert!(!too_costly(&rounds("1200000")));
        assert!(!too_costly(&rounds("20000000")));
        assert!(too_costly(&rounds("20000001")));
        assert!(too_costly(&rounds("99999999999999999999999")));
        assert!(!too_costly(&rounds("abc")));
        // That `verify` refuses such a hash unhashed is pinned on `password::parse`, where a
        // broken bound fails at once instead of hashing billions of rounds here.
    }

    #[test]
    fn django_hashes_are_verified_then_replaced() {
        let django = "pbkdf2_sha256$100000$seedSalt$vb8SWn+NeKf51onW0PGqpYy5w53s42I/ABJa6mGB/70=";
        assert!(verify("mot de passe du back office", django));
        assert!(!verify("mot de passe du back offic", django));
        assert_eq!(kind(django), HashKind::Django);
        assert!(needs_rehash(django));
    }

    #[test]
    fn unusable_hashes_never_match() {
        // Django's unusable password: `!` then 40 random characters.
        let unusable = "!Xk3vQ9pL2mN8rT5wY7zA1bC4dE6fG0hJ2kL4mN6";
        assert_eq!(kind(unusable), HashKind::Unusable);
        assert!(!verify("", unusable));
        assert!(!verify(unusable, unusable));
        assert!(!verify(&unusable[1..], unusable));
        assert!(!needs_rehash(unusable));
        assert_eq!(kind(""), HashKind::Unusable);
        assert_eq!(kind("bcrypt_sha256$$2b$12$abc"), HashKind::Unusable);
        assert!(!verify("", ""));
    }
}
