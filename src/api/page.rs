//! `GET /`: the chat page, one self-contained HTML file (`web/index.html`) compiled into the
//! function, so `sam deploy` ships it and the local stack serves it on the API's own origin.
//!
//! Its Content-Security-Policy allows only its own inline script (by hash, computed here once)
//! and calls to its own origin: even a message that smuggled markup in could run nothing.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use sha2::{Digest, Sha256};

/// The page.
pub const HTML: &str = include_str!("../../web/index.html");

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

/// The page's policy, hashed once per container.
fn policy() -> &'static str {
    static POLICY: OnceLock<String> = OnceLock::new();
    POLICY.get_or_init(|| content_security_policy(HTML))
}

/// The page as an answer.
pub fn respond() -> Response<Body> {
    let mut response = Response::new(Body::Text(HTML.to_owned()));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    let set = |headers: &mut lambda_http::http::HeaderMap, name, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set(headers, header::CONTENT_TYPE, "text/html; charset=utf-8");
    set(headers, header::CACHE_CONTROL, "no-cache");
    set(headers, header::CONTENT_SECURITY_POLICY, policy());
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
