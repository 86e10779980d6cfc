//! `/admin/users/` (superusers): accounts, created, deactivated, given a new password; and
//! `/admin/access-log/` (superusers): who signed in and who viewed which dossier.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{Params, alert, csrf_field, datetime, page, pagination, total_line};
use super::lists::{page_number, parse_query};
use super::{AppState, PageError, require_superuser};
use crate::domain::account::{self, HashKind};
use crate::store::StoreError;
use crate::store::access_log;
use crate::store::sessions::{self, Session};
use crate::store::users::{self, NewUser};

const LOG_PER_PAGE: i64 = 100;

/// The message of `?ok=` after an action.
fn done_message(key: Option<&str>) -> Option<&'static str> {
    match key? {
        "cree" => Some("Compte créé."),
        "active" => Some("Compte réactivé."),
        "desactive" => Some("Compte désactivé : ses sessions sont fermées."),
        "mot-de-passe" => Some("Mot de passe changé : les sessions de ce compte sont fermées."),
        _ => None,
    }
}

async fn users_page(
    state: &AppState,
    session: &Session,
    done: Option<&str>,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let all = users::all(&state.db).await?;
    let old_hashes = all
        .iter()
        .filter(|u| account::kind(&u.password_hash) == HashKind::Django)
        .count();
    let status = if error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let body = html! {
        @if let Some(message) = done_message(done) { (alert("success", message)) }
        @if let Some(error) = error { (alert("error", error)) }
        @if old_hashes > 0 {
            p { (old_hashes) " compte(s) gardent le mot de passe du back office Python (« ancien mot de passe ») : il est remplacé à leur prochaine connexion." }
        }
        div.fr-table.wif-table { table {
            caption { "Comptes" }
            thead { tr {
                th scope="col" { "Nom d'utilisateur" } th scope="col" { "E-mail" } th scope="col" { "Rôle" }
                th scope="col" { "État" } th scope="col" { "Dernière connexion" } th scope="col" { "Actions" }
            } }
            tbody {
                @for user in &all {
                    tr {
                        td {
                            (user.username)
                            @let name = format!("{} {}", user.first_name, user.last_name);
                            @if !name.trim().is_empty() { br; span.fr-hint-text { (name.trim()) } }
                        }
                        td { (user.email) }
                        td { @if user.is_superuser { "Administrateur" } @else { "Agent (lecture seule)" } }
                        td {
                            @if user.is_active { span.fr-badge.fr-badge--sm.fr-badge--success { "actif" } } @else { span.fr-badge.fr-badge--sm { "désactivé" } }
                            @match account::kind(&user.password_hash) {
                                HashKind::Django => { " " span.fr-badge.fr-badge--sm.fr-badge--warning { "ancien mot de passe" } }
                                HashKind::Unusable => { " " span.fr-badge.fr-badge--sm.fr-badge--error { "mot de passe à définir" } }
                                HashKind::Argon2 => {}
                            }
                        }
                        td { (datetime(user.last_login_at, state.time_zone)) }
                        td {
                            @if user.id != session.user.id {
                                form.wif-inline method="post" action=(format!("/admin/users/{}/active", user.id)) {
                                    (csrf_field(session))
                                    input type="hidden" name="active" value=(if user.is_active { "false" } else { "true" });
                                    button.fr-btn.fr-btn--sm.fr-btn--secondary type="submit" {
                                        @if user.is_active { "Désactiver" } @else { "Réactiver" }
                                    }
                                }
                            }
                            form.wif-inline method="post" action=(format!("/admin/users/{}/password", user.id)) {
                                (csrf_field(session))
                                label.fr-sr-only for=(format!("password-{}", user.id)) { "Nouveau mot de passe de " (user.username) }
                                input.fr-input.wif-small-input id=(format!("password-{}", user.id)) type="password" name="password"
                                    autocomplete="new-password" placeholder="Nouveau mot de passe" required;
                                button.fr-btn.fr-btn--sm.fr-btn--tertiary type="submit" { "Changer" }
                            }
                        }
                    }
                }
            }
        } }
        h2 { "Créer un compte" }
        form method="post" action="/admin/users/" {
            (csrf_field(session))
            div.fr-grid-row.fr-grid-row--gutters {
                div.fr-col-12.fr-col-md-3 { div.fr-input-group {
                    label.fr-label for="new-username" { "Nom d'utilisateur" }
                    input.fr-input #new-username type="text" name="username" required autocomplete="off";
                } }
                div.fr-col-12.fr-col-md-3 { div.fr-input-group {
                    label.fr-label for="new-email" { "E-mail" }
                    input.fr-input #new-email type="email" name="email" required autocomplete="off";
                } }
                div.fr-col-12.fr-col-md-3 { div.fr-input-group {
                    label.fr-label for="new-password" { "Mot de passe" span.fr-hint-text { "12 caractères au moins" } }
                    input.fr-input #new-password type="password" name="password" required autocomplete="new-password";
                } }
                div.fr-col-12.fr-col-md-3 {
                    div.fr-checkbox-group {
                        input #new-superuser type="checkbox" name="superuser" value="true";
                        label.fr-label for="new-superuser" { "Administrateur" }
                    }
                }
            }
            button.fr-btn.fr-mt-2w type="submit" { "Créer le compte" }
        }
    };
    Ok((
        status,
        page("Utilisateurs", Some(session), "/admin/users/", body),
    )
        .into_response())
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    Extension(session): Extension<Session>,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    require_superuser(&session)?;
    let pairs = parse_query(raw.as_deref());
    let done = pairs
        .iter()
        .find(|(k, _)| k == "ok")
        .map(|(_, v)| v.as_str());
    users_page(&state, &session, done, None).await
}

#[derive(Deserialize)]
pub struct NewAccount {
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    superuser: Option<String>,
}

pub async fn create(
    State(state): State<Arc<AppState>>,
    Extension(session): Extension<Session>,
    Form(form): Form<NewAccount>,
) -> Result<Response, PageError> {
    require_superuser(&session)?;
    let username = form.username.trim();
    let email = form.email.trim();
    let checked = account::check_username(username)
        .and_then(|()| account::check_email(email))
        .map_err(str::to_owned)
        .and_then(|()| {
            account::check_strength(&form.password, username, email).map_err(|w| w.to_string())
        });
    if let Err(reason) = checked {
        return users_page(&state, &session, None, Some(&reason)).await;
    }
    let hash = account::hash(&form.password);
    let user = NewUser {
        username,
        email,
        password_hash: &hash,
        is_superuser: form.superuser.is_some(),
    };
    match users::create(&state.db, user).await {
        Ok(_) => Ok(Redirect::to("/admin/users/?ok=cree").into_response()),
        Err(error @ StoreError::UsernameTaken(_)) => {
            users_page(&state, &session, None, Some(&error.to_string())).await
        }
        Err(error) => Err(error.into()),
    }
}

#[derive(Deserialize)]
pub struct ActiveForm {
    active: String,
}

pub async fn set_active(
    State(state): State<Arc<AppState>>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
    Form(form): Form<ActiveForm>,
) -> Result<Response, PageError> {
    require_superuser(&session)?;
    if id == session.user.id {
        return users_page(
            &state,
            &session,
            None,
            Some("Vous ne pouvez pas désactiver votre propre compte."),
        )
        .await;
    }
    users::get(&state.db, id)
        .await?
        .ok_or(PageError::NotFound)?;
    let active = form.active == "true";
    users::set_active(&state.db, id, active).await?;
    if !active {
        sessions::delete_for_user(&state.db, id).await?;
    }
    let done = if active { "active" } else { "desactive" };
    Ok(Redirect::to(&format!("/admin/users/?ok={done}")).into_response())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    password: String,
}

pub async fn set_password(
    State(state): State<Arc<AppState>>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    require_superuser(&session)?;
    let user = users::get(&state.db, id)
        .await?
        .ok_or(PageError::NotFound)?;
    if let Err(weak) = account::check_strength(&form.password, &user.username, &user.email) {
        return users_page(&state, &session, None, Some(&weak.to_string())).await;
    }
    users::set_password_hash(&state.db, id, &account::hash(&form.password)).await?;
    sessions::delete_for_user(&state.db, id).await?;
    let target = match id == session.user.id {
        // Your own sessions are closed too: sign in again with the new password.
        true => "/admin/login",
        false => "/admin/users/?ok=mot-de-passe",
    };
    Ok(Redirect::to(target).into_response())
}

pub async fn access_log(
    State(state): State<Arc<AppState>>,
    Extension(session): Extension<Session>,
    RawQuery(raw): RawQuery,
) -> Result<Markup, PageError> {
    require_superuser(&session)?;
    let pairs = parse_query(raw.as_deref());
    let params = Params::from_pairs(&pairs, &["p"]);
    let current = page_number(&params);
    let (entries, total) =
        access_log::page(&state.db, LOG_PER_PAGE, (current - 1) * LOG_PER_PAGE).await?;
    let body = html! {
        p { "Chaque connexion, réussie ou non, chaque déconnexion et chaque consultation de données personnelles : un dossier, le Suivi Préfecture, une recherche par nom ou par e-mail (RGPD)." }
        (total_line(total, "entrée"))
        div.fr-table.wif-table { table {
            caption { "Journal d'accès" }
            thead { tr { th scope="col" { "Date" } th scope="col" { "Utilisateur" } th scope="col" { "Action" } th scope="col" { "Dossier" } th scope="col" { "Adresse" } } }
            tbody {
                @for e in &entries {
                    tr {
                        td { (datetime(Some(e.at), state.time_zone)) }
                        td { (e.username) }
                        td { (action_label(&e.action)) @if let Some(detail) = &e.detail { " (" (detail) ")" } }
                        td { @if let Some(id) = e.ds_id { a href=(format!("/admin/dossiers/{id}")) { (id) } } @else { "—" } }
                        td { (e.address) }
                    }
                }
                @if entries.is_empty() { tr { td colspan="5" { "Aucune entrée." } } }
            }
        } }
        (pagination(total, LOG_PER_PAGE, current, &params, None))
    };
    Ok(page(
        "Journal d'accès",
        Some(&session),
        "/admin/access-log/",
        body,
    ))
}

/// An access log action in the admin's words.
fn action_label(action: &str) -> &'static str {
    match action {
        "login" => "Connexion",
        "login_failed" => "Connexion refusée",
        "logout" => "Déconnexion",
        "dossier_view" => "Consultation d'un dossier",
        "prefecture_view" => "Consultation du Suivi Préfecture",
        "dossier_search" => "Recherche de dossiers",
        "alert_acknowledged" => "Alerte prise en compte",
        "departments_changed" => "Départements d'un compte modifiés",
        _ => "Autre",
    }
}
