//! What the admin's lists share: the query string, pages counted or found beside a dossier,
//! the sort parameter, and the filters of the side bar with their counts.

use maud::{Markup, html};

use super::layout::{Params, number};
use crate::domain::Status;
use crate::store::dossier_lists::PageStart;

/// Rows per page of every list.
pub const PER_PAGE: i64 = 100;

pub fn parse_query(raw: Option<&str>) -> Vec<(String, String)> {
    serde_urlencoded::from_str(raw.unwrap_or_default()).unwrap_or_default()
}

/// Where the page shown starts: next to the dossier of `?apres=` or `?avant=` when the agent
/// came by "page suivante" or "page précédente", else after the rows of the pages before.
pub fn page_start(params: &Params, page: i64, per_page: i64) -> PageStart {
    let ds_id = |key| params.get(key).and_then(|v| v.parse::<i64>().ok());
    match (ds_id("apres"), ds_id("avant")) {
        (Some(id), _) => PageStart::After(id),
        (None, Some(id)) => PageStart::Before(id),
        (None, None) => PageStart::Offset((page - 1) * per_page),
    }
}

/// Beyond any real list (a billion rows at 100 a page), and far from overflowing an OFFSET.
const MAX_PAGE: i64 = 10_000_000;

/// The page number of `?p=`, from 1 to `MAX_PAGE`.
pub fn page_number(params: &Params) -> i64 {
    params
        .get("p")
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|p| *p >= 1)
        .map_or(1, |p| p.min(MAX_PAGE))
}

/// The first and last dossier numbers of a page.
pub fn edges<R>(rows: &[R], ds_id: impl Fn(&R) -> i64) -> Option<(i64, i64)> {
    Some((ds_id(rows.first()?), ds_id(rows.last()?)))
}

/// The sort of `?o=key` (ascending) or `?o=-key` (descending), or `default`.
pub fn sort_param<C>(
    params: &Params,
    from_key: fn(&str) -> Option<C>,
    default: (C, bool),
) -> (C, bool) {
    let Some(o) = params.get("o") else {
        return default;
    };
    let (key, descending) = o.strip_prefix('-').map_or((o, false), |k| (k, true));
    from_key(key).map_or(default, |c| (c, descending))
}

/// The entries of a status filter: the status, its French label, its count.
pub fn status_entries(counts: &[(String, i64)]) -> impl Iterator<Item = (String, String, i64)> {
    counts.iter().map(|(s, n)| {
        let label = Status::from_v1(s).map_or(s.clone(), |s| s.label().to_owned());
        (s.clone(), label, *n)
    })
}

/// A filter of the side bar: "Tous", then each value with its count.
pub fn facet(
    title: &str,
    key: &str,
    params: &Params,
    values: impl Iterator<Item = (String, String, i64)>,
) -> Markup {
    let selected = params.get(key);
    html! {
        nav.fr-sidemenu.fr-mb-3w aria-labelledby=(format!("filtre-{key}")) {
            div.fr-sidemenu__inner {
                p.fr-sidemenu__title #(format!("filtre-{key}")) { (title) }
                ul.fr-sidemenu__list {
                    li.fr-sidemenu__item {
                        a.fr-sidemenu__link href=(params.with(key, None))
                            aria-current=[selected.is_none().then_some("page")] { "Tous" }
                    }
                    @for (value, label, count) in values {
                        li.fr-sidemenu__item {
                            a.fr-sidemenu__link href=(params.with(key, Some(&value)))
                                aria-current=[(selected == Some(value.as_str())).then_some("page")] {
                                (label) " (" (number(count)) ")"
                            }
                        }
                    }
                }
            }
        }
    }
}
