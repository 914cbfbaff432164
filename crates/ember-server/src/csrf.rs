//! The cross-site request forgery guard, one rule for every route that changes data (the API's
//! and the web UI's forms): a browser sends `Sec-Fetch-Site` and `Origin` with a write, and a
//! page of another site must not be able to make a user's browser delete their data.
//!
//! - A write (any method but GET, HEAD, OPTIONS) whose `Sec-Fetch-Site` is `cross-site` or
//!   `same-site`, or whose `Origin` is neither this server (the `Host` it was asked as) nor one of
//!   `PHOENIX_ALLOWED_ORIGINS`, is refused with 403.
//! - An API write (`/v1/...`, `/graphql`) whose body is typed `text/plain` or
//!   `application/x-www-form-urlencoded` is refused with 415: those are the types a page can send
//!   cross-site without a preflight, and no API route reads them (FastAPI does not either).
//!   Arize's `/v1/log` is the exception when the request carries an `Authorization` header
//!   (which no cross-site form can set) or no cookie (a form's only credential): its documented
//!   curl examples send JSON with curl's default form type.
//!
//! - With `PHOENIX_CSRF_TRUSTED_ORIGINS` set, any request (reads too, as Phoenix) whose `Origin`
//!   or `Referer` names a host not in that list is refused with 401 (`untrusted origin`), and a
//!   write from a trusted host is allowed.
//!
//! Clients that are not browsers (the Phoenix and Arize SDKs, OTel exporters, curl) send neither
//! header and are unaffected.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// Which other origins may send requests.
#[derive(Debug, Clone, Default)]
pub struct OriginRules {
    /// `PHOENIX_ALLOWED_ORIGINS`: origins whose pages may read (CORS) and write.
    pub allowed: Vec<String>,
    /// `PHOENIX_CSRF_TRUSTED_ORIGINS`' hostnames, lowercased; empty for no such rule.
    pub trusted_hosts: Vec<String>,
}

impl OriginRules {
    /// The rules of the two settings; an entry of the trusted origins without a hostname is a
    /// mistake named in Phoenix's words.
    pub fn new(allowed: Vec<String>, trusted_origins: &[String]) -> Result<OriginRules, String> {
        let mut trusted_hosts = Vec::new();
        for origin in trusted_origins.iter().map(|origin| origin.trim()).filter(|origin| !origin.is_empty()) {
            let host = hostname(origin).ok_or_else(|| {
                "The environment variable `PHOENIX_CSRF_TRUSTED_ORIGINS` contains a url with missing hostname. \
                 Please ensure that each url has a valid hostname."
                    .to_string()
            })?;
            trusted_hosts.push(host);
        }
        Ok(OriginRules { allowed, trusted_hosts })
    }
}

/// The lowercased hostname of an absolute URL (`scheme://host[:port][/path]`), brackets of an
/// IPv6 address removed.
fn hostname(url: &str) -> Option<String> {
    let uri = url.parse::<axum::http::Uri>().ok()?;
    uri.scheme()?;
    let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Why a request is refused, if it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// `Origin` or `Referer` (named) is not a trusted origin.
    Untrusted(&'static str),
    CrossSite,
    /// The body's media type.
    SimpleContentType(String),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Untrusted(header) => (StatusCode::UNAUTHORIZED, format!("untrusted {header}")).into_response(),
            Refusal::CrossSite => {
                (StatusCode::FORBIDDEN, "Cross-site requests may not change data: the request's Origin is not this server").into_response()
            }
            Refusal::SimpleContentType(mime) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Unsupported content type {mime:?} for a write to the API; send JSON as application/json"),
            )
                .into_response(),
        }
    }
}

/// Whether a request may go on; see the module's documentation.
pub(crate) fn check(method: &Method, path: &str, headers: &HeaderMap, rules: &OriginRules) -> Result<(), Refusal> {
    let text = |name: header::HeaderName| headers.get(name).and_then(|value| value.to_str().ok()).map(str::trim);
    let trusted = |url: &str| hostname(url).is_some_and(|host| rules.trusted_hosts.contains(&host));
    if !rules.trusted_hosts.is_empty() {
        for (name, word) in [(header::ORIGIN, "origin"), (header::REFERER, "referer")] {
            if headers.get(&name).is_some_and(|value| !value.to_str().is_ok_and(|url| trusted(url.trim()))) {
                return Err(Refusal::Untrusted(word));
            }
        }
    }
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    if matches!(text(header::HeaderName::from_static("sec-fetch-site")), Some(site) if site.eq_ignore_ascii_case("cross-site") || site.eq_ignore_ascii_case("same-site"))
    {
        return Err(Refusal::CrossSite);
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("null").trim();
        let allowed = rules.allowed.iter().any(|allowed| allowed.trim_end_matches('/').eq_ignore_ascii_case(origin))
            || text(header::HOST).is_some_and(|host| same_authority(origin, host))
            || trusted(origin);
        if !allowed {
            return Err(Refusal::CrossSite);
        }
    }
    let api = path.starts_with("/v1/") || path == "/graphql";
    let keyed_arize_log = path == "/v1/log" && (headers.contains_key(header::AUTHORIZATION) || !headers.contains_key(header::COOKIE));
    let mime = text(header::CONTENT_TYPE).map(|value| value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
    if let Some(mime) =
        mime.filter(|mime| api && !keyed_arize_log && matches!(mime.as_str(), "text/plain" | "application/x-www-form-urlencoded"))
    {
        return Err(Refusal::SimpleContentType(mime));
    }
    Ok(())
}

/// Whether `origin` (`scheme://host[:port]`) names `host` (`host[:port]`), with the scheme's
/// default port implied. The scheme is not compared: a proxy that ends TLS forwards plain HTTP.
fn same_authority(origin: &str, host: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else { return false };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => "80",
        "https" => "443",
        _ => return false,
    };
    let normalise = |authority: &str| {
        let authority = authority.to_ascii_lowercase();
        let has_port = !authority.ends_with(']')
            && authority.rsplit_once(':').is_some_and(|(_, port)| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()));
        if has_port {
            authority
        } else {
            format!("{authority}:{default_port}")
        }
    };
    normalise(authority) == normalise(host)
}

/// The guard as middleware over every route.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match check(request.method(), request.uri().path(), request.headers(), &state.origins) {
        Ok(()) => next.run(request).await,
        Err(refusal) => refusal.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn none() -> OriginRules {
        OriginRules::default()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn browser_writes_from_other_sites_are_refused() {
        let post = Method::POST;
        let host = ("host", "127.0.0.1:6006");
        assert_eq!(
            check(&post, "/projects/2/delete", &headers(&[host, ("origin", "http://evil.example")]), &none()),
            Err(Refusal::CrossSite)
        );
        assert_eq!(check(&post, "/projects/2/delete", &headers(&[host, ("origin", "null")]), &none()), Err(Refusal::CrossSite));
        assert_eq!(check(&post, "/v1/sessions/delete", &headers(&[("sec-fetch-site", "cross-site")]), &none()), Err(Refusal::CrossSite));
        assert_eq!(check(&post, "/v1/sessions/delete", &headers(&[("sec-fetch-site", "same-site")]), &none()), Err(Refusal::CrossSite));
        // The server's own pages, listed origins, non-browser clients and reads pass.
        assert_eq!(
            check(
                &post,
                "/projects/2/delete",
                &headers(&[host, ("origin", "http://127.0.0.1:6006"), ("sec-fetch-site", "same-origin")]),
                &none()
            ),
            Ok(())
        );
        assert_eq!(check(&post, "/projects", &headers(&[("host", "ember.example"), ("origin", "https://ember.example")]), &none()), Ok(()));
        assert_eq!(
            check(
                &post,
                "/projects",
                &headers(&[host, ("origin", "https://app.example")]),
                &OriginRules { allowed: vec!["https://app.example/".into()], trusted_hosts: Vec::new() }
            ),
            Ok(())
        );
        assert_eq!(check(&post, "/v1/span_annotations", &headers(&[("content-type", "application/json")]), &none()), Ok(()));
        assert_eq!(check(&Method::GET, "/projects", &headers(&[host, ("origin", "http://evil.example")]), &none()), Ok(()));
        assert_eq!(
            check(&post, "/projects", &headers(&[("host", "127.0.0.1:6006"), ("origin", "http://127.0.0.1:6007")]), &none()),
            Err(Refusal::CrossSite)
        );
    }

    #[test]
    fn api_writes_refuse_the_content_types_a_page_can_send_without_a_preflight() {
        for content_type in ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded"] {
            let headers = headers(&[("content-type", content_type)]);
            let mime = content_type.split(';').next().unwrap().to_string();
            assert_eq!(
                check(&Method::POST, "/v1/projects/p/spans/delete", &headers, &none()),
                Err(Refusal::SimpleContentType(mime.clone()))
            );
            assert_eq!(check(&Method::POST, "/graphql", &headers, &none()), Err(Refusal::SimpleContentType(mime.clone())));
            assert_eq!(check(&Method::POST, "/v1/log", &headers, &none()), Ok(()), "no cookie: no browser credential");
            let mut with_cookie = headers.clone();
            with_cookie.insert("cookie", HeaderValue::from_static("phoenix-access-token=t"));
            assert_eq!(check(&Method::POST, "/v1/log", &with_cookie, &none()), Err(Refusal::SimpleContentType(mime)));
        }
        // Arize's curl examples: JSON typed as a form, with the key no cross-site form can send.
        let keyed = headers(&[("content-type", "application/x-www-form-urlencoded"), ("authorization", "key")]);
        assert_eq!(check(&Method::POST, "/v1/log", &keyed, &none()), Ok(()));
        assert_eq!(
            check(&Method::POST, "/v1/projects/p/spans/delete", &keyed, &none()),
            Err(Refusal::SimpleContentType("application/x-www-form-urlencoded".into()))
        );
        // UI forms are urlencoded by design (and Origin-checked); uploads are multipart.
        assert_eq!(check(&Method::POST, "/projects", &headers(&[("content-type", "application/x-www-form-urlencoded")]), &none()), Ok(()));
        assert_eq!(
            check(&Method::POST, "/v1/datasets/upload", &headers(&[("content-type", "multipart/form-data; boundary=x")]), &none()),
            Ok(())
        );
    }

    /// `PHOENIX_CSRF_TRUSTED_ORIGINS` as Phoenix applies it: to reads too, by hostname, to both
    /// headers; requests with neither header pass.
    #[test]
    fn trusted_origins_refuse_other_hosts_with_401() {
        let rules = OriginRules::new(Vec::new(), &["".into(), "http://localhost".into(), "http://127.0.0.1:6006".into()]).unwrap();
        let get = Method::GET;
        assert_eq!(check(&get, "/healthz", &headers(&[]), &rules), Ok(()));
        assert_eq!(check(&get, "/healthz", &headers(&[("origin", "http://localhost")]), &rules), Ok(()));
        assert_eq!(check(&get, "/healthz", &headers(&[("referer", "https://127.0.0.1:9/x")]), &rules), Ok(()));
        assert_eq!(check(&get, "/healthz", &headers(&[("origin", "http://xyz.com")]), &rules), Err(Refusal::Untrusted("origin")));
        let mixed = headers(&[("origin", "http://localhost"), ("referer", "http://xyz.com/xyz")]);
        assert_eq!(check(&get, "/healthz", &mixed, &rules), Err(Refusal::Untrusted("referer")));
        let write = headers(&[("host", "ember.internal:6006"), ("origin", "http://localhost:3000")]);
        assert_eq!(check(&Method::POST, "/v1/projects", &write, &rules), Ok(()), "a trusted host may write");
        assert!(OriginRules::new(Vec::new(), &["localhost".into()]).unwrap_err().contains("missing hostname"));
    }
}
