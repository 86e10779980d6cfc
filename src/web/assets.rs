//! The static files of both web services, embedded in the binary: the DSFR (installed by npm from
//! `package-lock.json`, listed by `build.rs`) under `dsfr/`, and the site's own `wif.css`.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

include!(concat!(env!("OUT_DIR"), "/dsfr_assets.rs"));

const WIF_CSS: &str = include_str!("../../static/wif.css");

/// `GET /admin/static/{*path}` and the public `GET /static/{*path}`: only the embedded files
/// answer, so no path can reach the disk.
pub async fn asset(Path(path): Path<String>) -> Response {
    let Some(body) = lookup(&path) else {
        return (StatusCode::NOT_FOUND, "Fichier introuvable.").into_response();
    };
    (
        [
            (header::CONTENT_TYPE, content_type(&path)),
            // The URLs carry no version: a day of caching keeps an upgrade visible by the next day.
            (header::CACHE_CONTROL, "public, max-age=86400"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

/// Whether the DSFR stylesheet is embedded (npm was available at build time).
pub fn dsfr_available() -> bool {
    lookup("dsfr/dsfr.min.css").is_some()
}

fn lookup(path: &str) -> Option<&'static [u8]> {
    if path == "wif.css" {
        return Some(WIF_CSS.as_bytes());
    }
    let relative = path.strip_prefix("dsfr/")?;
    DSFR_ASSETS
        .iter()
        .find(|(key, _)| *key == relative)
        .map(|(_, bytes)| *bytes)
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map_or("", |(_, extension)| extension) {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "woff2" => "font/woff2",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(path: &str) -> (StatusCode, Option<String>, Vec<u8>) {
        let response = asset(Path(path.to_owned())).await;
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|value| value.to_str().unwrap().to_owned());
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, content_type, body.to_vec())
    }

    #[tokio::test]
    async fn wif_css_is_served_as_css_with_cache_headers() {
        let response = asset(Path("wif.css".to_owned())).await;
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers();
        assert_eq!(headers[header::CONTENT_TYPE], "text/css; charset=utf-8");
        assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=86400");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        let (_, _, body) = get("wif.css").await;
        assert_eq!(body, WIF_CSS.as_bytes());
    }

    #[tokio::test]
    async fn unknown_paths_and_traversal_attempts_are_not_found() {
        for path in [
            "",
            "dsfr/",
            "nope.css",
            "WIF.CSS",
            "dsfr/dsfr.min.css.map",
            "dsfr/icons/system/fr--warning-line.svg.bak",
            "../Cargo.toml",
            "../../static/wif.css",
            "dsfr/../wif.css",
            "dsfr/fonts/../dsfr.min.css",
            "dsfr/../../../../etc/passwd",
            "/etc/passwd",
            "/wif.css",
            "dsfr//etc/passwd",
            "dsfr/%2e%2e/wif.css",
        ] {
            let (status, content_type, body) = get(path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path:?}");
            assert_eq!(
                content_type.as_deref(),
                Some("text/plain; charset=utf-8"),
                "{path:?}"
            );
            assert_eq!(body, "Fichier introuvable.".as_bytes(), "{path:?}");
        }
    }

    #[tokio::test]
    async fn dsfr_stylesheet_and_fonts_are_served_when_embedded() {
        let (status, content_type, css) = get("dsfr/dsfr.min.css").await;
        if !dsfr_available() {
            // Built without npm: the layout links no DSFR file, and none answers.
            assert_eq!(status, StatusCode::NOT_FOUND);
            assert!(DSFR_ASSETS.is_empty());
            return;
        }
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type.as_deref(), Some("text/css; charset=utf-8"));
        assert!(String::from_utf8(css).unwrap().contains(".fr-header"));

        let font = DSFR_ASSETS
            .iter()
            .map(|(key, _)| *key)
            .find(|key| key.starts_with("fonts/Marianne-") && key.ends_with(".woff2"))
            .expect("a Marianne WOFF2 font");
        let (status, content_type, bytes) = get(&format!("dsfr/{font}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type.as_deref(), Some("font/woff2"));
        assert!(bytes.starts_with(b"wOF2"), "{font} is not WOFF2");

        // The favicon the layout links.
        let (status, content_type, _) = get("dsfr/favicon/favicon.svg").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type.as_deref(), Some("image/svg+xml"));
    }

    /// The `url(...)` arguments of a stylesheet.
    fn urls(css: &str) -> impl Iterator<Item = &str> {
        css.split("url(")
            .skip(1)
            .map(|rest| rest[..rest.find(')').unwrap()].trim_matches(['"', '\'']))
    }

    #[tokio::test]
    async fn every_icon_and_woff2_font_the_stylesheets_use_is_served() {
        let Some(css) = lookup("dsfr/dsfr.min.css") else {
            assert!(DSFR_ASSETS.is_empty());
            return;
        };
        let css = std::str::from_utf8(css).unwrap();
        let dsfr = urls(css)
            .filter(|url| url.starts_with("icons/") || url.ends_with(".woff2"))
            .map(|url| format!("dsfr/{url}"));
        // wif.css sits in /admin/static/, its DSFR icons under dsfr/.
        let wif = urls(WIF_CSS)
            .filter(|url| url.starts_with("dsfr/"))
            .map(str::to_owned);
        let mut checked = 0;
        for path in dsfr.chain(wif) {
            let (status, _, _) = get(&path).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            checked += 1;
        }
        assert!(checked > 20, "only {checked} icons and fonts referenced");
    }
}
