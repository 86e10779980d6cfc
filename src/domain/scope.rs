//! What an account may see (SPEC §11): every dossier, or only those of some départements.
//! Administrators are never limited; an agent without départements sees the whole country.

/// The longest département name an administrator may type (DS's own are far shorter).
const MAX_LENGTH: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    National,
    /// Sorted, without duplicates, never empty.
    Departments(Vec<String>),
}

impl Scope {
    /// The scope of an account with these départements.
    pub fn of(is_superuser: bool, mut departments: Vec<String>) -> Scope {
        departments.sort();
        departments.dedup();
        match is_superuser || departments.is_empty() {
            true => Scope::National,
            false => Scope::Departments(departments),
        }
    }

    /// The départements the account is limited to, if any.
    pub fn departments(&self) -> Option<&[String]> {
        match self {
            Scope::National => None,
            Scope::Departments(departments) => Some(departments),
        }
    }

    /// Whether a dossier of this département may be shown; a dossier without one is national.
    pub fn allows(&self, department: Option<&str>) -> bool {
        match self {
            Scope::National => true,
            Scope::Departments(departments) => {
                department.is_some_and(|d| departments.iter().any(|allowed| allowed == d))
            }
        }
    }
}

/// A département as typed by an administrator or a script: trimmed, not empty, printable.
pub fn parse_department(text: &str) -> Result<String, &'static str> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_LENGTH || text.chars().any(char::is_control) {
        return Err(
            "un département s'écrit comme sur DS, par exemple « 75 - Paris » (100 caractères au plus)",
        );
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deps(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn administrators_and_agents_without_departements_see_the_whole_country() {
        assert_eq!(Scope::of(true, deps(&["75 - Paris"])), Scope::National);
        assert_eq!(Scope::of(false, vec![]), Scope::National);
        assert!(Scope::National.allows(None));
    }

    #[test]
    fn a_limited_agent_sees_only_its_departements_and_never_a_dossier_without_one() {
        let scope = Scope::of(
            false,
            deps(&["92 - Hauts-de-Seine", "75 - Paris", "75 - Paris"]),
        );
        assert_eq!(
            scope.departments(),
            Some(&deps(&["75 - Paris", "92 - Hauts-de-Seine"])[..])
        );
        assert!(scope.allows(Some("75 - Paris")));
        assert!(!scope.allows(Some("75 - Paris ")));
        assert!(!scope.allows(Some("13 - Bouches-du-Rhône")));
        assert!(!scope.allows(None));
    }

    #[test]
    fn departements_are_trimmed_and_must_be_printable() {
        assert_eq!(
            parse_department("  75 - Paris "),
            Ok("75 - Paris".to_owned())
        );
        assert!(parse_department("   ").is_err());
        assert!(parse_department("75\n").is_ok());
        assert!(parse_department("7\u{1}5").is_err());
        assert_eq!(parse_department(&"x".repeat(100)), Ok("x".repeat(100)));
        assert!(parse_department(&"x".repeat(101)).is_err());
    }
}
