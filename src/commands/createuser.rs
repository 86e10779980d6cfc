//! `wif createsuperuser` and `wif createuser`: an administrator or an agent account, typed in or
//! scripted; an agent may be limited to départements (SPEC §11).

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, bail};

use super::open_database;
use crate::cli::{CreateSuperuserArgs, CreateUserArgs};
use crate::domain::{account, scope};
use crate::store::access_log::{self, Action, NewEntry};
use crate::store::users::{self, NewUser};

pub async fn superuser(args: CreateSuperuserArgs) -> anyhow::Result<()> {
    create(args, true, Vec::new()).await
}

pub async fn agent(args: CreateUserArgs) -> anyhow::Result<()> {
    let departments = args
        .departments
        .iter()
        .map(|d| scope::parse_department(d).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    create(args.account, false, departments).await
}

async fn create(
    args: CreateSuperuserArgs,
    is_superuser: bool,
    mut departments: Vec<String>,
) -> anyhow::Result<()> {
    departments.sort();
    departments.dedup();
    let (_settings, db) = open_database().await?;
    let mut prompt = Prompt::new();
    let (username, email, password) = if args.no_input {
        let username = args
            .username
            .context("--no-input demande --username et --email")?;
        let email = args
            .email
            .context("--no-input demande --username et --email")?;
        let password = std::env::var("WIF_SUPERUSER_PASSWORD")
            .ok()
            .filter(|p| !p.is_empty())
            .context(
                "--no-input demande le mot de passe dans la variable WIF_SUPERUSER_PASSWORD",
            )?;
        account::check_username(&username).map_err(anyhow::Error::msg)?;
        account::check_email(&email).map_err(anyhow::Error::msg)?;
        account::check_strength(&password, &username, &email)?;
        (username, email, password)
    } else {
        let username = prompt.until_valid(
            "Nom d'utilisateur : ",
            args.username,
            account::check_username,
        )?;
        let email = prompt.until_valid("Adresse e-mail : ", args.email, account::check_email)?;
        let password = prompt.password(&username, &email)?;
        (username, email, password)
    };

    if users::find_by_username(&db, &username).await?.is_some() {
        bail!("le nom d'utilisateur « {username} » est déjà pris");
    }
    let hash = account::hash(&password);
    let id = users::create(
        &db,
        NewUser {
            username: &username,
            email: &email,
            password_hash: &hash,
            is_superuser,
        },
    )
    .await?;
    if !departments.is_empty() {
        users::set_departments(&db, id, &departments).await?;
        let detail = crate::admin::departments_detail(&username, &departments);
        let entry = NewEntry {
            user_id: None,
            username: COMMAND_LINE,
            action: Action::DepartmentsChanged,
            ds_id: None,
            address: COMMAND_LINE,
            detail: Some(&detail),
        };
        access_log::record(&db, entry, chrono::Utc::now()).await?;
    }
    db.close().await;
    match (is_superuser, departments.is_empty()) {
        (true, _) => println!("Superutilisateur « {username} » créé."),
        (false, true) => println!("Agent « {username} » créé : il voit toute la France."),
        (false, false) => println!(
            "Agent « {username} » créé, limité à : {}.",
            departments.join(", ")
        ),
    }
    Ok(())
}

/// Who and where, in the access log, for a change made by a script.
const COMMAND_LINE: &str = "ligne de commande";

/// Questions on a terminal (the password hidden), or lines read from a pipe for scripts.
struct Prompt {
    terminal: bool,
    lines: std::io::Lines<std::io::StdinLock<'static>>,
}

impl Prompt {
    fn new() -> Prompt {
        Prompt {
            terminal: std::io::stdin().is_terminal(),
            lines: std::io::stdin().lock().lines(),
        }
    }

    fn line(&mut self, question: &str, hidden: bool) -> anyhow::Result<String> {
        if self.terminal && hidden {
            return rpassword::prompt_password(question)
                .context("lecture du mot de passe impossible");
        }
        if self.terminal {
            print!("{question}");
            std::io::stdout().flush()?;
        }
        match self.lines.next() {
            Some(line) => Ok(line?.trim_end_matches(['\r', '\n']).to_owned()),
            None => bail!(
                "entrée terminée avant la fin des questions (utilisez --no-input dans un script)"
            ),
        }
    }

    /// Asks until the answer passes `check` on a terminal; fails at the first bad answer in a pipe.
    fn until_valid(
        &mut self,
        question: &str,
        given: Option<String>,
        check: impl Fn(&str) -> Result<(), &'static str>,
    ) -> anyhow::Result<String> {
        let mut answer = match given {
            Some(value) => value,
            None => self.line(question, false)?.trim().to_owned(),
        };
        loop {
            match check(&answer) {
                Ok(()) => return Ok(answer),
                Err(reason) if self.terminal => eprintln!("Refusé : {reason}."),
                Err(reason) => bail!("{reason}"),
            }
            answer = self.line(question, false)?.trim().to_owned();
        }
    }

    fn password(&mut self, username: &str, email: &str) -> anyhow::Result<String> {
        loop {
            let password = self.line("Mot de passe : ", true)?;
            let confirmation = self.line("Mot de passe (confirmation) : ", true)?;
            let problem = if password != confirmation {
                "les deux mots de passe ne sont pas identiques".to_owned()
            } else if let Err(weak) = account::check_strength(&password, username, email) {
                weak.to_string()
            } else {
                return Ok(password);
            };
            if !self.terminal {
                bail!("{problem}");
            }
            eprintln!("Refusé : {problem}.");
        }
    }
}
