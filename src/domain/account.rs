//! Back-office accounts: what a valid username, e-mail and password are; Argon2id hashing.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

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

/// An e-mail address of the form `local@domain.tld`, without spaces.
pub fn check_email(email: &str) -> Result<(), &'static str> {
    let valid = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
    }) && !email.chars().any(char::is_whitespace);
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

/// Whether `password` matches a stored hash; a malformed hash matches nothing.
pub fn verify(password: &str, stored_hash: &str) -> bool {
    PasswordHash::new(stored_hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
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
        assert!(check_email("marie.curie@dreets.gouv.fr").is_ok());
        for bad in [
            "marie",
            "@dreets.gouv.fr",
            "marie@",
            "marie@gouv",
            "ma rie@x.fr",
            "a@b@c.fr",
            "a@.fr",
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
    }
}
