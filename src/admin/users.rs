//! `/admin/users/` (superusers): accounts, created, deactivated, given a new password; and
//! `/admin/access-log/` (superusers): who signed in and who viewed which dossier.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{Params, alert, csrf_field, datetime, page, pagination, total_line};
use super::lists::{page_number, parse_query};
use super::{AppState, PageError, auth, require_superuser};
use crate::domain::account::{self, HashKind};
use crate::domain::scope;
use crate::store::access_log::{self, Action};
use crate::store::sessions::{self, Session};
use crate::store::users::{self, NewUser, User};
use crate::store::{StoreError, dossier_lists};

const LOG_PER_PAGE: i64 = 100;
/// When every turn of `PasswordChecks` is taken.
const BUSY: &str =
    "Trop de mots de passe à traiter en même temps : réessayez dans quelques secondes.";

/// The message of `?ok=` after an action.
fn done_message(key: Option<&str>) -> Option<&'static str> {
    match key? {
        "cree" => Some("Compte créé."),
        "active" => Some("Compte réactivé."),
        "desactive" => Some("Compte désactivé : ses sessions sont fermées."),
        "mot-de-passe" => Some("Mot de passe changé : les sessions de ce compte sont fermées."),
        "delie" => Some(
            "Identité ProConnect déliée : les sessions de ce compte sont fermées ; sa prochaine connexion ProConnect le reliera de nouveau par son adresse e-mail.",
        ),
        "departements" => {
            Some("Départements du compte enregistrés : ils s'appliquent dès sa prochaine page.")
        }
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
    let mut departments: HashMap<i64, Vec<String>> = HashMap::new();
    for (user_id, department) in users::all_departments(&state.db).await? {
        departments.entry(user_id).or_default().push(department);
    }
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
                th scope="col" { "Départements" }
                th scope="col" { "État" } th scope="col" { "ProConnect" }
                th scope="col" { "Dernière connexion" } th scope="col" { "Actions" }
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
                            @match (user.is_superuser, departments.get(&user.id)) {
                                (true, _) => "Tous",
                                (false, None) => "Tous",
                                (false, Some(names)) => (names.join(", ")),
                            }
                            @if !user.is_superuser {
                                br;
                                a.fr-link.fr-text--sm href=(format!("/admin/users/{}/departements", user.id)) {
                                    "Modifier" span.fr-sr-only { " les départements de " (user.username) }
                                }
                            }
                        }
                        td {
                            @if user.is_active { span.fr-badge.fr-badge--sm.fr-badge--success { "actif" } } @else { span.fr-badge.fr-badge--sm { "désactivé" } }
                            @match account::kind(&user.password_hash) {
                                HashKind::Django => { " " span.fr-badge.fr-badge--sm.fr-badge--warning { "ancien mot de passe" } }
                                HashKind::Unusable => { " " span.fr-badge.fr-badge--sm.fr-badge--error { "mot de passe à définir" } }
                                HashKind::Argon2 => {}
                            }
                        }
                        td {
                            @if user.proconnect_sub.is_some() {
                                span.fr-badge.fr-badge--sm.fr-badge--info { "relié" }
                                form.wif-inline method="post" action=(format!("/admin/users/{}/proconnect", user.id)) {
                                    (csrf_field(session))
                                    button.fr-btn.fr-btn--sm.fr-btn--tertiary type="submit" {
                                        "Délier" span.fr-sr-only { " le compte " (user.username) " de ProConnect" }
                                    }
                                }
                            } @else {
                                span.fr-badge.fr-badge--sm { "non relié" }
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
    let Some(hash) = state.password_checks.hash(&form.password).await else {
        return users_page(&state, &session, None, Some(BUSY)).await;
    };
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

/// `POST /admin/users/{id}/proconnect`: forgets the account's ProConnect identity and ends its
/// sessions.
pub async fn unlink_proconnect(
    State(state): State<Arc<AppState>>,
    Extension(session): Extension<Session>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    require_superuser(&session)?;
    let user = users::get(&state.db, id)
        .await?
        .ok_or(PageError::NotFound)?;
    users::unlink_proconnect(&state.db, id).await?;
    sessions::delete_for_user(&state.db, id).await?;
    let detail = format!("compte {}", user.username);
    auth::record_access(
        &state,
        &session,
        peer,
        &headers,
        Action::ProConnectUnlinked,
        None,
        Some(&detail),
    )
    .await?;
    Ok(Redirect::to("/admin/users/?ok=delie").into_response())
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
    let Some(hash) = state.password_checks.hash(&form.password).await else {
        return users_page(&state, &session, None, Some(BUSY)).await;
    };
    users::set_password_hash(&state.db, id, &hash).await?;
    sessions::delete_for_user(&state.db, id).await?;
    let target = match id == session.user.id {
        // Your own sessions are closed too: sign in again with the new password.
        true => "/admin/login",
        false => "/admin/users/?ok=mot-de-passe",
    };
    Ok(Redirect::to(target).into_response())
}

/// `/admin/users/{id}/departements`: the départements an agent is limited to, ticked among
/// those of the stored dossiers, or typed when none is stored yet.
pub async fn departments_form(
    State(state): State<Arc<AppState>>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    require_superuser(&session)?;
    let user = agent(&state, id).await?;
    departments_page(&state, &session, &user, None).await
}

async fn agent(state: &AppState, id: i64) -> Result<User, PageError> {
    // Administrators are never limited: their départements are not edited.
    users::get(&state.db, id)
        .await?
        .filter(|user| !user.is_superuser)
        .ok_or(PageError::NotFound)
}

async fn departments_page(
    state: &AppState,
    session: &Session,
    user: &User,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let chosen: BTreeSet<String> = users::departments(&state.db, user.id)
        .await?
        .into_iter()
        .collect();
    // Every département of a dossier or an account, this one's included.
    let known = dossier_lists::departments(&state.db).await?;
    let status = match error {
        Some(_) => axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        None => axum::http::StatusCode::OK,
    };
    let body = html! {
        @if let Some(error) = error { (alert("error", error)) }
        p {
            "Un agent limité à des départements ne voit que leurs dossiers, partout : listes, compteurs, "
            "recherche, Suivi Préfecture, alertes et rapports ; tout autre dossier lui répond « Page introuvable ». "
            "Sans département coché, il voit toute la France. Chaque modification est inscrite au journal d'accès."
        }
        form method="post" action=(format!("/admin/users/{}/departements", user.id)) {
            (csrf_field(session))
            fieldset.fr-fieldset {
                legend.fr-fieldset__legend { "Départements de " (user.username) }
                @if known.is_empty() {
                    div.fr-fieldset__element { p { "Aucun dossier n'est encore copié : saisissez le département ci-dessous." } }
                }
                @for (i, department) in known.iter().enumerate() {
                    div.fr-fieldset__element { div.fr-checkbox-group {
                        input id=(format!("departement-{i}")) type="checkbox" name="departement" value=(department)
                            checked[chosen.contains(department)];
                        label.fr-label for=(format!("departement-{i}")) { (department) }
                    } }
                }
            }
            div.fr-input-group {
                label.fr-label for="autre" {
                    "Autre département"
                    span.fr-hint-text { "Tel qu'il est écrit sur DS, par exemple « 75 - Paris » ; facultatif" }
                }
                input.fr-input #autre type="text" name="departement" autocomplete="off";
            }
            ul.fr-btns-group.fr-btns-group--inline-md {
                li { button.fr-btn type="submit" { "Enregistrer" } }
                li { a.fr-btn.fr-btn--secondary href="/admin/users/" { "Annuler" } }
            }
        }
    };
    Ok((
        status,
        page(
            &format!("Départements de {}", user.username),
            Some(session),
            "/admin/users/",
            body,
        ),
    )
        .into_response())
}

/// `POST /admin/users/{id}/departements`: every ticked or typed département (`departement`,
/// repeated); none means the whole country.
pub async fn set_departments(
    State(state): State<Arc<AppState>>,
    Extension(session): Extension<Session>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    require_superuser(&session)?;
    let user = agent(&state, id).await?;
    let mut chosen = BTreeSet::new();
    for (_, value) in fields
        .iter()
        .filter(|(k, v)| k == "departement" && !v.trim().is_empty())
    {
        match scope::parse_department(value) {
            Ok(department) => chosen.insert(department),
            Err(reason) => return departments_page(&state, &session, &user, Some(reason)).await,
        };
    }
    let chosen: Vec<String> = chosen.into_iter().collect();
    users::set_departments(&state.db, user.id, &chosen).await?;
    let detail = departments_detail(&user.username, &chosen);
    auth::record_access(
        &state,
        &session,
        peer,
        &headers,
        Action::DepartmentsChanged,
        None,
        Some(&detail),
    )
    .await?;
    Ok(Redirect::to("/admin/users/?ok=departements").into_response())
}

/// The access log's detail of a change: the account and its départements now.
pub fn departments_detail(username: &str, departments: &[String]) -> String {
    match departments.is_empty() {
        true => format!("{username} : tous les départements"),
        false => format!("{username} : {}", departments.join(", ")),
    }
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
        "purge" => "Purge des données personnelles",
        "proconnect_linked" => "Compte relié à ProConnect",
        "proconnect_unlinked" => "Compte délié de ProConnect",
        _ => "Autre",
    }
}
