//! Text rules shared by the exports and the admin: obfuscation and the seed's title case.

/// Hides a name for the public validity check: every character but the second one and the
/// spaces becomes `*`, after trimming. `" Emma Louise    "` gives `"*m** ******"`.
pub fn obfuscate(name: &str) -> String {
    name.trim()
        .chars()
        .enumerate()
        .map(|(i, c)| if i == 1 || c == ' ' { c } else { '*' })
        .collect()
}

/// Python's `str.title()`, which the seed used for countries and names: a letter is upper case
/// when it follows a character that is not a letter, lower case otherwise.
pub fn title_case(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut after_letter = false;
    for c in text.chars() {
        if after_letter {
            out.extend(c.to_lowercase());
        } else {
            out.extend(c.to_uppercase());
        }
        after_letter = c.is_alphabetic();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn obfuscation_keeps_the_second_character_and_spaces() {
        assert_eq!(obfuscate(" Emma Louise    "), "*m** ******");
        assert_eq!(obfuscate("Dupont"), "*u****");
        assert_eq!(obfuscate("A"), "*");
        assert_eq!(obfuscate(""), "");
        assert_eq!(obfuscate("   "), "");
    }

    #[test]
    fn obfuscation_counts_characters_not_bytes() {
        assert_eq!(obfuscate("Élodie"), "*l****");
        assert_eq!(obfuscate("Zoë"), "*o*");
        assert_eq!(obfuscate("李小龙"), "*小*");
        assert_eq!(obfuscate("Ñoño Pérez"), "*o** *****");
    }

    #[test]
    fn title_case_matches_python() {
        assert_eq!(title_case("COREE (REPUBLIQUE DE)"), "Coree (Republique De)");
        assert_eq!(title_case("ALGERIE"), "Algerie");
        assert_eq!(title_case("côte d'ivoire"), "Côte D'Ivoire");
        assert_eq!(title_case("JEAN-PIERRE"), "Jean-Pierre");
        assert_eq!(title_case("ÉMILIE"), "Émilie");
        assert_eq!(title_case(""), "");
    }
}
