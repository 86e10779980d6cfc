//! Text rules shared by the exports and the admin: obfuscation, the seed's title case and the
//! search key.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

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

/// The form in which the admin's search compares names and e-mails: lower case, without
/// accents, letters whose accent does not come apart spelled plainly (`œ` → `oe`, `ß` → `ss`,
/// `đ` → `d`), the typographic apostrophe as the typed one, no control characters, spaces
/// trimmed and collapsed. Agents type names without accents; a key computed here compares the
/// same on both engines, where SQLite's `lower()` folds ASCII letters only. Compatibility
/// decomposition (NFKD) also reads full-width letters as plain ones.
///
/// Each character is folded alone, so the key of a name's start is the start of the name's key:
/// a searched prefix, folded, is a prefix of the stored keys it should find.
pub fn search_key(text: &str) -> String {
    let mut key = String::with_capacity(text.len());
    let mut space = false;
    for c in text.nfkd().flat_map(char::to_lowercase) {
        if is_combining_mark(c) || c.is_control() {
            continue;
        }
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if std::mem::take(&mut space) && !key.is_empty() {
            key.push(' ');
        }
        match c {
            'œ' => key.push_str("oe"),
            'æ' => key.push_str("ae"),
            'ß' => key.push_str("ss"),
            'þ' => key.push_str("th"),
            'ø' => key.push('o'),
            'đ' | 'ð' => key.push('d'),
            'ł' => key.push('l'),
            'ı' => key.push('i'),
            'ς' => key.push('σ'),
            '\u{2019}' | '\u{02bc}' => key.push('\''),
            c => key.push(c),
        }
    }
    key
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

    #[test]
    fn search_keys_ignore_case_and_accents() {
        for typed in [
            "elodie",
            "ÉLODIE",
            "Elodie",
            "Élodie",
            "E\u{301}lodie",
            "Ｅｌｏｄｉｅ",
        ] {
            assert_eq!(search_key(typed), "elodie", "{typed}");
        }
        assert_eq!(search_key("Ngô Bảo Châu"), "ngo bao chau");
        assert_eq!(search_key("NGUYỄN Đức"), "nguyen duc");
        assert_eq!(
            search_key("Œdipe Lætitia Straße"),
            "oedipe laetitia strasse"
        );
        assert_eq!(search_key("Søren Łukasz Þór"), "soren lukasz thor");
        assert_eq!(search_key("İSTANBUL"), "istanbul");
        assert_eq!(search_key("ΟΔΥΣΣΕΑΣ"), search_key("Οδυσσέας"));
        assert_eq!(search_key("N’Guessan"), "n'guessan");
        assert_eq!(search_key("Zoë.Müller@Exemple.FR"), "zoe.muller@exemple.fr");
        assert_eq!(search_key("李小龙"), "李小龙");
    }

    #[test]
    fn search_keys_trim_and_collapse_spaces_and_drop_control_characters() {
        assert_eq!(search_key(" Emma \t Louise    "), "emma louise");
        assert_eq!(search_key("Du\u{0}pont\n"), "dupont");
        assert_eq!(search_key("\u{301}"), "");
        assert_eq!(search_key(""), "");
    }

    /// The key of any start of a name is a start of the name's key: a search by prefix finds it.
    #[test]
    fn the_key_of_a_start_is_the_start_of_the_key() {
        for name in [
            "Élodie Dupont",
            " Jean  -Pierre ",
            "Ngô Bảo Châu",
            "Œdipe",
            "E\u{301}\u{327}lodie",
            "ＥＬＯ",
        ] {
            let whole = search_key(name);
            for (end, _) in name.char_indices().chain([(name.len(), ' ')]) {
                let start = search_key(&name[..end]);
                assert!(whole.starts_with(&start), "{name:?}: {start:?} / {whole:?}");
            }
        }
    }
}
