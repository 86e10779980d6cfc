//! `wif createsuperuser`: the first administrator account, typed in or scripted.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, bail};

use super::open_database;
use crate::cli::CreateSuperuserArgs;
use crate::domain::account;
use crate::store::users::{self, NewUser};

pub async fn run(args: CreateSuperuserArgs) -> anyhow::Result<()> {
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
    users::create(
        &db,
        NewUser {
            username: &username,
            email: &email,
            password_hash: &hash,
            is_superuser: true,
        },
    )
    .await?;
    db.close().await;
    println!("Superutilisateur « {username} » créé.");
    Ok(())
}

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
