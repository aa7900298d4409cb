//! `GET /`: the chat page, one self-contained HTML file (`web/index.html`) compiled into the
//! function, so `sam deploy` ships it and the local stack serves it on the API's own origin.
//!
//! Its Content-Security-Policy allows only its own inline script (by hash, computed here once)
//! and calls to its own origin, and to the real-time channel where one is configured
//! (`REALTIME_WS_URL`, `REALTIME_HTTP_HOST`): even a message that smuggled markup in could run
//! nothing. The channel's address reaches the page in a `<meta name="realtime">`; without it
//! the page polls. Where people sign in with a password (`IDP_SIGN_IN_URL`, Cognito's
//! endpoint), its address and the app client reach the page in a `<meta name="sign-in">`, and
//! the policy lets the page call it. Where the deployment takes files (`FILES_BUCKET`), the
//! bucket's origin and the rules reach the page in a `<meta name="files">`, and the policy lets
//! the page upload to the bucket and show its images. Where the deployment pushes
//! (`PUSH_PUBLIC_KEY`), the VAPID public key reaches the page in a `<meta name="push">`, and
//! `/service_worker.js` (`web/service_worker.js`, same origin, as the Push API requires) shows
//! a push as a notification; the policy lets the page register it and nothing else.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use sha2::{Digest, Sha256};

use crate::api::spec::{Method, Spec};
use crate::api::{Answer, ApiError, Endpoint};
use crate::config::{Config, SignInAddress};
use crate::realtime::RealtimeAddress;

/// The page.
pub const HTML: &str = include_str!("../../../web/index.html");
/// The page's service worker: it shows a push as a notification and opens its thread.
pub const SERVICE_WORKER: &str = include_str!("../../../web/service_worker.js");
/// Where the service worker is served: at the root, so that its scope is the whole page.
pub const SERVICE_WORKER_PATH: &str = "/service_worker.js";

/// A request for the page or its service worker: it takes no query.
#[derive(Debug, PartialEq, Eq)]
pub enum Page {
    Html,
    ServiceWorker,
}

impl Endpoint for Page {
    const SPEC: Spec = Spec {
        name: "page",
        routes: &["/", "/page", SERVICE_WORKER_PATH],
        method: Method::Get,
        needs: crate::api::endpoint::needs_of::<Self>(),
    };

    type Caller = ();

    type Parts<'a> = &'a Config;

    /// A page takes whatever query a link gives it, as any web page does, and reads none.
    fn parse(request: &Request) -> Result<Self, ApiError> {
        Ok(if request.uri().path() == SERVICE_WORKER_PATH {
            Self::ServiceWorker
        } else {
            Self::Html
        })
    }

    fn who(&self) {}

    async fn act(self, config: Self::Parts<'_>, (): ()) -> Result<Answer, ApiError> {
        if self == Self::ServiceWorker {
            return Ok(Answer::response(service_worker()));
        }
        let settings = PageSettings {
            realtime: config.realtime.page.clone(),
            sign_in: config
                .identity_provider
                .as_ref()
                .and_then(|idp| idp.sign_in.clone()),
            files: FilesAddress::of(config),
            push: config.push.as_ref().map(|push| PushAddress {
                public_key: push.public_key.clone(),
            }),
        };
        Ok(Answer::response(respond(&settings)))
    }
}

/// What the page is told about where it runs, each part only where the deployment has it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageSettings {
    pub realtime: Option<RealtimeAddress>,
    pub sign_in: Option<SignInAddress>,
    pub files: Option<FilesAddress>,
    pub push: Option<PushAddress>,
}

/// What the page subscribes to pushes with: the deployment's VAPID public key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PushAddress {
    pub public_key: String,
}

/// Where the page's files go, and what it may send there (checked again by `upload_url`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FilesAddress {
    /// The bucket's scheme, host and port.
    pub origin: String,
    pub max_bytes: u64,
    pub types: Vec<String>,
}

impl FilesAddress {
    /// The files' address in this deployment; `None` where it takes no files.
    pub fn of(config: &Config) -> Option<Self> {
        let (files, aws) = (config.files.as_ref()?, config.aws.as_ref()?);
        let origin = crate::settings::origin_of(
            &crate::files::s3::origin(&files.bucket, aws),
            &["http", "https"],
        )?;
        Some(Self {
            origin,
            max_bytes: files.max_bytes,
            types: files.types.clone(),
        })
    }
}

/// The page with its settings in `<meta>`s its script reads.
pub fn page_with(settings: &PageSettings) -> String {
    let mut metas = String::new();
    meta(&mut metas, "realtime", settings.realtime.as_ref());
    meta(&mut metas, "sign-in", settings.sign_in.as_ref());
    meta(&mut metas, "files", settings.files.as_ref());
    meta(&mut metas, "push", settings.push.as_ref());
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
        settings.files.as_ref().map(|files| files.origin.clone()),
    ];
    let connect = origins
        .into_iter()
        .flatten()
        .fold("'self'".to_owned(), |all, origin| format!("{all} {origin}"));
    let images = match &settings.files {
        Some(files) => format!("img-src 'self' data: {}", files.origin),
        None => "img-src 'self' data:".to_owned(),
    };
    let policy = content_security_policy(html)
        .replace("connect-src 'self'", &format!("connect-src {connect}"))
        .replace("img-src 'self' data:", &images);
    match settings.push {
        Some(_) => policy.replace("base-uri", "worker-src 'self'; base-uri"),
        None => policy,
    }
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
    text_response(html, "text/html; charset=utf-8", policy)
}

/// The service worker: a script the page registers, with a policy that lets it fetch nothing.
fn service_worker() -> Response<Body> {
    text_response(
        SERVICE_WORKER,
        "text/javascript; charset=utf-8",
        "default-src 'none'",
    )
}

fn text_response(text: &str, content_type: &str, policy: &str) -> Response<Body> {
    let mut response = Response::new(Body::Text(text.to_owned()));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    let set = |headers: &mut lambda_http::http::HeaderMap, name, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set(headers, header::CONTENT_TYPE, content_type);
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
            ..PageSettings::default()
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
            ..PageSettings::default()
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
    fn the_files_bucket_joins_the_policy_for_uploads_and_images_and_nothing_else() {
        let lookup = |name: &str| {
            let value = match name {
                "FILES_BUCKET" => "chat-files",
                "AWS_REGION" => "eu-west-1",
                "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" => "x",
                _ => return None,
            };
            Some(value.to_owned())
        };
        let config = Config::from_lookup(lookup).unwrap();
        let settings = PageSettings {
            files: FilesAddress::of(&config),
            ..PageSettings::default()
        };
        let origin = "https://chat-files.s3.eu-west-1.amazonaws.com";
        assert_eq!(settings.files.as_ref().unwrap().origin, origin);
        let html = page_with(&settings);
        assert!(
            html.contains(r#"<meta name="files" content="{&quot;origin&quot;"#),
            "{html}"
        );
        let policy = content_security_policy_with(&html, &settings);
        assert!(
            policy.contains(&format!("connect-src 'self' {origin};")),
            "{policy}"
        );
        assert!(
            policy.contains(&format!("img-src 'self' data: {origin};")),
            "{policy}"
        );
        assert!(!policy.contains("script-src 'self'"), "{policy}");
    }

    #[test]
    fn the_push_key_reaches_the_page_and_the_policy_lets_it_register_its_own_worker_only() {
        let settings = PageSettings {
            push: Some(PushAddress {
                public_key: "BP4z9KsN".into(),
            }),
            ..PageSettings::default()
        };
        let html = page_with(&settings);
        assert!(
            html.contains(
                r#"<meta name="push" content="{&quot;public_key&quot;:&quot;BP4z9KsN&quot;}">"#
            ),
            "{html}"
        );
        let policy = content_security_policy_with(&html, &settings);
        assert!(policy.contains("; worker-src 'self'; "), "{policy}");
        let without = content_security_policy_with(HTML, &PageSettings::default());
        assert!(!without.contains("worker-src"), "{without}");
        let worker = service_worker();
        assert_eq!(
            worker.headers()[header::CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            worker.headers()[header::CONTENT_SECURITY_POLICY],
            "default-src 'none'"
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
