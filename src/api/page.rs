//! `GET /`: the chat page, one self-contained HTML file (`web/index.html`) compiled into the
//! function, so `sam deploy` ships it and the local stack serves it on the API's own origin.
//!
//! Its Content-Security-Policy allows only its own inline script (by hash, computed here once)
//! and calls to its own origin, and to the real-time channel where one is configured
//! (`REALTIME_WS_URL`, `REALTIME_HTTP_HOST`): even a message that smuggled markup in could run
//! nothing. The channel's address reaches the page in a `<meta name="realtime">`; without it
//! the page polls.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use sha2::{Digest, Sha256};

/// The page.
pub const HTML: &str = include_str!("../../web/index.html");

/// Where the page subscribes: the WebSocket URL and the host named in its authorization.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RealtimeAddress {
    pub ws_url: String,
    pub http_host: String,
}

impl RealtimeAddress {
    /// From the environment; `None` unless both are set and the URL is a WebSocket one.
    fn from_env() -> Option<Self> {
        let get = |name| {
            std::env::var(name)
                .ok()
                .filter(|v: &String| !v.trim().is_empty())
        };
        let address = Self {
            ws_url: get("REALTIME_WS_URL")?,
            http_host: get("REALTIME_HTTP_HOST")?,
        };
        let origin = address.origin()?;
        let safe = |text: &str| !text.contains(['"', '\'', ';', ' ', '<', '>']);
        (safe(&origin) && safe(&address.http_host)).then_some(address)
    }

    /// The URL's scheme, host and port, for the policy.
    fn origin(&self) -> Option<String> {
        let url = reqwest::Url::parse(&self.ws_url).ok()?;
        matches!(url.scheme(), "ws" | "wss").then_some(())?;
        let host = url.host_str()?;
        Some(match url.port() {
            Some(port) => format!("{}://{host}:{port}", url.scheme()),
            None => format!("{}://{host}", url.scheme()),
        })
    }
}

/// The page with its real-time address, if any, in a `<meta>` its script reads.
pub fn page_with(realtime: Option<&RealtimeAddress>) -> String {
    let Some(realtime) = realtime else {
        return HTML.to_owned();
    };
    let json = serde_json::to_string(realtime).unwrap_or_default();
    let attribute = json
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;");
    HTML.replacen(
        "<title>",
        &format!("<meta name=\"realtime\" content=\"{attribute}\">\n<title>"),
        1,
    )
}

/// The policy, with the hash of the page's one inline script, and the real-time channel's
/// origin among those it may connect to.
pub fn content_security_policy_with(html: &str, realtime: Option<&RealtimeAddress>) -> String {
    let connect = realtime
        .and_then(RealtimeAddress::origin)
        .map_or_else(|| "'self'".to_owned(), |origin| format!("'self' {origin}"));
    content_security_policy(html).replace("connect-src 'self'", &format!("connect-src {connect}"))
}

/// The policy, with the hash of the page's one inline script.
pub fn content_security_policy(html: &str) -> String {
    let script = html
        .split_once("<script>")
        .and_then(|(_, rest)| rest.split_once("</script>"))
        .map_or("", |(script, _)| script);
    let hash = STANDARD.encode(Sha256::digest(script.as_bytes()));
    format!(
        "default-src 'none'; script-src 'sha256-{hash}'; style-src 'unsafe-inline'; \
         connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    )
}

/// The page and its policy, made once per container.
fn served() -> &'static (String, String) {
    static SERVED: OnceLock<(String, String)> = OnceLock::new();
    SERVED.get_or_init(|| {
        let realtime = RealtimeAddress::from_env();
        let html = page_with(realtime.as_ref());
        let policy = content_security_policy_with(&html, realtime.as_ref());
        (html, policy)
    })
}

/// The page as an answer.
pub fn respond() -> Response<Body> {
    let (html, policy) = served();
    let mut response = Response::new(Body::Text(html.clone()));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    let set = |headers: &mut lambda_http::http::HeaderMap, name, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set(headers, header::CONTENT_TYPE, "text/html; charset=utf-8");
    set(headers, header::CACHE_CONTROL, "no-cache");
    set(headers, header::CONTENT_SECURITY_POLICY, policy);
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_exactly_the_page_s_own_script() {
        let policy = content_security_policy("<p>x</p><script>alert(1)</script>");
        // sha256 of "alert(1)", base64.
        assert!(
            policy.contains("script-src 'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"),
            "{policy}"
        );
        assert!(policy.contains("connect-src 'self'"));
    }

    #[test]
    fn a_real_time_address_reaches_the_page_and_its_policy_and_the_script_is_unchanged() {
        let realtime = RealtimeAddress {
            ws_url: "wss://abc.appsync-realtime-api.eu-west-1.amazonaws.com/event/realtime".into(),
            http_host: "abc.appsync-api.eu-west-1.amazonaws.com".into(),
        };
        let html = page_with(Some(&realtime));
        assert!(
            html.contains(r#"<meta name="realtime" content="{&quot;ws_url&quot;:&quot;wss://abc."#)
        );
        let policy = content_security_policy_with(&html, Some(&realtime));
        assert!(policy.contains(
            "connect-src 'self' wss://abc.appsync-realtime-api.eu-west-1.amazonaws.com;"
        ));
        assert_eq!(
            content_security_policy(&html),
            content_security_policy(HTML),
            "the script's hash"
        );
        assert!(content_security_policy_with(HTML, None).contains("connect-src 'self';"));
    }

    #[test]
    fn the_page_is_served_as_html_with_its_policy() {
        let response = respond();
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        let policy = response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(
            policy.starts_with("default-src 'none'; script-src 'sha256-"),
            "{policy}"
        );
        assert!(
            HTML.contains("<script>") && HTML.matches("<script").count() == 1,
            "one inline script"
        );
    }
}
