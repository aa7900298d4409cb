//! `GET /`: the chat page, one self-contained HTML file (`web/index.html`) compiled into the
//! function, so `sam deploy` ships it and the local stack serves it on the API's own origin.
//!
//! Its Content-Security-Policy allows only its own inline script (by hash, computed here once)
//! and calls to its own origin, and to the real-time channel where one is configured
//! (`REALTIME_WS_URL`, `REALTIME_HTTP_HOST`): even a message that smuggled markup in could run
//! nothing. The channel's address reaches the page in a `<meta name="realtime">`; without it
//! the page polls. Where people sign in with a password (`IDP_SIGN_IN_URL`, Cognito's
//! endpoint), its address and the app client reach the page in a `<meta name="sign-in">`, and
//! the policy lets the page call it.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use sha2::{Digest, Sha256};

use crate::api::spec::{Method, Needs, Spec};
use crate::api::{Answer, ApiError, AppState, Endpoint};
use crate::config::{RealtimeAddress, SignInAddress};

/// The page.
pub const HTML: &str = include_str!("../../../web/index.html");

/// A request for the page: it takes no query.
#[derive(Debug)]
pub struct Page;

impl Endpoint for Page {
    const SPEC: Spec = Spec {
        name: "page",
        routes: &["/", "/page"],
        method: Method::Get,
        needs: Needs::NOTHING,
    };

    type Caller = ();

    /// A page takes whatever query a link gives it, as any web page does, and reads none.
    fn parse(_: &Request) -> Result<Self, ApiError> {
        Ok(Self)
    }

    fn who(&self) {}

    async fn act(self, state: &AppState, (): ()) -> Result<Answer, ApiError> {
        let settings = PageSettings {
            realtime: state.config.realtime.page.clone(),
            sign_in: state
                .config
                .identity_provider
                .as_ref()
                .and_then(|idp| idp.sign_in.clone()),
        };
        Ok(Answer::response(respond(&settings)))
    }
}

/// What the page is told about where it runs, each part only where the deployment has it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageSettings {
    pub realtime: Option<RealtimeAddress>,
    pub sign_in: Option<SignInAddress>,
}

/// The page with its settings in `<meta>`s its script reads.
pub fn page_with(settings: &PageSettings) -> String {
    let mut metas = String::new();
    meta(&mut metas, "realtime", settings.realtime.as_ref());
    meta(&mut metas, "sign-in", settings.sign_in.as_ref());
    HTML.replacen("<title>", &format!("{metas}<title>"), 1)
}

fn meta(metas: &mut String, name: &str, value: Option<&impl serde::Serialize>) {
    let Some(value) = value else { return };
    match serde_json::to_string(value) {
        Ok(json) => {
            let attribute = json
                .replace('&', "&amp;")
                .replace('"', "&quot;")
                .replace('<', "&lt;");
            metas.push_str(&format!("<meta name=\"{name}\" content=\"{attribute}\">\n"));
        }
        Err(error) => {
            tracing::error!(%error, name, "a page setting could not be written; the page goes without");
        }
    }
}

/// The policy, with the hash of the page's one inline script, and the real-time channel's and
/// the sign-in endpoint's origins among those it may connect to.
pub fn content_security_policy_with(html: &str, settings: &PageSettings) -> String {
    let origins = [
        settings.realtime.as_ref().and_then(RealtimeAddress::origin),
        settings.sign_in.as_ref().and_then(SignInAddress::origin),
    ];
    let connect = origins
        .into_iter()
        .flatten()
        .fold("'self'".to_owned(), |all, origin| format!("{all} {origin}"));
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

/// The page and its policy for one set of settings.
struct Served {
    settings: PageSettings,
    html: String,
    policy: String,
}

impl Served {
    fn new(settings: &PageSettings) -> Self {
        let html = page_with(settings);
        let policy = content_security_policy_with(&html, settings);
        Self {
            settings: settings.clone(),
            html,
            policy,
        }
    }
}

/// The page as an answer: made once per container (a container has one set of settings; any
/// other, as tests give, is made afresh).
fn respond(settings: &PageSettings) -> Response<Body> {
    static SERVED: OnceLock<Served> = OnceLock::new();
    let cached = SERVED.get_or_init(|| Served::new(settings));
    let fresh;
    let served = if &cached.settings == settings {
        cached
    } else {
        fresh = Served::new(settings);
        &fresh
    };
    let (html, policy) = (&served.html, &served.policy);
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
        let settings = PageSettings {
            realtime: Some(realtime),
            sign_in: None,
        };
        let html = page_with(&settings);
        assert!(
            html.contains(r#"<meta name="realtime" content="{&quot;ws_url&quot;:&quot;wss://abc."#)
        );
        let policy = content_security_policy_with(&html, &settings);
        assert!(policy.contains(
            "connect-src 'self' wss://abc.appsync-realtime-api.eu-west-1.amazonaws.com;"
        ));
        assert_eq!(
            content_security_policy(&html),
            content_security_policy(HTML),
            "the script's hash"
        );
        let none = PageSettings::default();
        assert!(content_security_policy_with(HTML, &none).contains("connect-src 'self';"));
    }

    #[test]
    fn a_sign_in_endpoint_reaches_the_page_and_only_its_origin_joins_the_policy() {
        let settings = PageSettings {
            realtime: None,
            sign_in: Some(SignInAddress {
                url: "https://cognito-idp.eu-west-1.amazonaws.com/".into(),
                client_id: "abc\"><script>".into(),
            }),
        };
        let html = page_with(&settings);
        assert!(html.contains(
            r#"<meta name="sign-in" content="{&quot;url&quot;:&quot;https://cognito-idp.eu-west-1.amazonaws.com/&quot;,&quot;client_id&quot;:&quot;abc\&quot;>&lt;script>&quot;}">"#
        ), "{html}");
        let policy = content_security_policy_with(&html, &settings);
        assert!(
            policy.contains("connect-src 'self' https://cognito-idp.eu-west-1.amazonaws.com;"),
            "{policy}"
        );
    }

    #[test]
    fn the_page_is_served_as_html_with_its_policy() {
        let response = respond(&PageSettings::default());
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
