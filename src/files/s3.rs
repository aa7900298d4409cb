//! The few S3 calls the files need, over our one HTTP client and signed with `aws-sigv4` (the
//! SDKs' own signer, already in every binary): presigned requests for the page, and HEAD,
//! tagging, listing and deletion for the functions. The S3 SDK would add more to each binary
//! than all of this, for six calls.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation,
    SigningSettings, UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::HeaderMap;
use sha2::{Digest, Sha256};

use crate::acs::http::count_upstream;
use crate::aws::AwsSettings;

/// How long an S3 call may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// What SigV4 leaves unescaped in a path or query value: letters, digits and `-._~`.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Why an S3 call failed. Nothing here holds a credential or a signed URL.
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    #[error("S3 could not be reached: {0}")]
    Unreachable(String),
    #[error("S3 answered {status} ({code})")]
    Refused { status: u16, code: String },
    #[error("the request could not be signed: {0}")]
    Signing(String),
}

/// What S3 keeps of an object that the files read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub content_type: String,
    pub size: u64,
    /// The object's own metadata (`x-amz-meta-*`), by name without the prefix.
    pub metadata: Vec<(String, String)>,
}

impl Head {
    pub fn metadata(&self, name: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Where bucket `name`'s objects are reached: its own host on AWS, the endpoint elsewhere.
pub fn origin(name: &str, aws: &AwsSettings) -> String {
    match &aws.s3_endpoint {
        Some(endpoint) => endpoint.trim_end_matches('/').to_owned(),
        None => format!("https://{name}.s3.{}.amazonaws.com", aws.region),
    }
}

/// One bucket, as the function's execution role sees it.
#[derive(Debug, Clone)]
pub struct Bucket {
    http: reqwest::Client,
    /// Scheme and host of every URL, e.g. `https://b.s3.eu-west-1.amazonaws.com`.
    origin: String,
    /// The path before a key: `/` on AWS (the bucket is in the host), `/<bucket>/` on an
    /// endpoint of its own (moto, ministack), which serves buckets by path.
    prefix: String,
    region: String,
    identity: Identity,
}

impl Bucket {
    pub fn new(http: reqwest::Client, name: &str, aws: &AwsSettings) -> Self {
        let origin = origin(name, aws);
        let prefix = match &aws.s3_endpoint {
            Some(_) => format!("/{name}/"),
            None => "/".to_owned(),
        };
        let credentials = Credentials::new(
            &aws.access_key_id,
            &aws.secret_access_key,
            aws.session_token.clone(),
            None,
            "lambda-environment",
        );
        Self {
            http,
            origin,
            prefix,
            region: aws.region.clone(),
            identity: credentials.into(),
        }
    }

    /// Where the bucket's objects are fetched from: the page's policy allows this origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    fn path(&self, key: &str) -> String {
        let encoded: Vec<String> = key
            .split('/')
            .map(|segment| utf8_percent_encode(segment, UNRESERVED).to_string())
            .collect();
        format!("{}{}", self.prefix, encoded.join("/"))
    }

    /// A URL that lets its holder make one kind of request on `key` until `lifetime` passes:
    /// `headers` must then be sent exactly as given, as they are signed with it.
    pub fn presign(
        &self,
        method: &str,
        key: &str,
        headers: &[(&str, &str)],
        query: &[(&str, &str)],
        lifetime: Duration,
    ) -> Result<String, S3Error> {
        let mut settings = s3_settings();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(lifetime);
        let host = self.host();
        let mut url = format!("{}{}", self.origin, self.path(key));
        let query: Vec<String> = query
            .iter()
            .map(|(name, value)| format!("{name}={}", utf8_percent_encode(value, UNRESERVED)))
            .collect();
        if !query.is_empty() {
            url = format!("{url}?{}", query.join("&"));
        }
        let signed_headers = headers.iter().copied().chain([("host", host.as_str())]);
        let request =
            SignableRequest::new(method, &url, signed_headers, SignableBody::UnsignedPayload)
                .map_err(|e| S3Error::Signing(e.to_string()))?;
        let (instructions, _) = sign(request, &self.params(&settings)?.into())
            .map_err(|e| S3Error::Signing(e.to_string()))?
            .into_parts();
        let separator = if url.contains('?') { '&' } else { '?' };
        let signature: Vec<String> = instructions
            .params()
            .iter()
            .map(|(name, value)| format!("{name}={}", utf8_percent_encode(value, UNRESERVED)))
            .collect();
        Ok(format!("{url}{separator}{}", signature.join("&")))
    }

    /// The object's type, size and metadata; `None` when there is no such object.
    pub async fn head(&self, key: &str) -> Result<Option<Head>, S3Error> {
        let Some((headers, _)) = self.call("HEAD", key, "", Vec::new()).await? else {
            return Ok(None);
        };
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let metadata = headers
            .iter()
            .filter_map(|(name, value)| {
                let name = name.as_str().strip_prefix("x-amz-meta-")?;
                Some((name.to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect();
        Ok(Some(Head {
            content_type: text("content-type").unwrap_or_default().to_owned(),
            size: text("content-length")
                .and_then(|n| n.parse().ok())
                .unwrap_or_default(),
            metadata,
        }))
    }

    /// The object's tags; `None` when there is no such object.
    pub async fn tags(&self, key: &str) -> Result<Option<Vec<(String, String)>>, S3Error> {
        let Some((_, body)) = self.call("GET", key, "tagging", Vec::new()).await? else {
            return Ok(None);
        };
        let body = String::from_utf8_lossy(&body);
        Ok(Some(
            elements(&body, "Tag")
                .into_iter()
                .filter_map(|tag| {
                    let key = elements(tag, "Key").into_iter().next()?;
                    let value = elements(tag, "Value").into_iter().next().unwrap_or("");
                    Some((unescape(key), unescape(value)))
                })
                .collect(),
        ))
    }

    /// Replaces the object's tags; `false` when there is no such object.
    pub async fn set_tags(&self, key: &str, tags: &[(&str, &str)]) -> Result<bool, S3Error> {
        let tags: String = tags
            .iter()
            .map(|(k, v)| {
                format!(
                    "<Tag><Key>{}</Key><Value>{}</Value></Tag>",
                    escape(k),
                    escape(v)
                )
            })
            .collect();
        let body = format!("<Tagging><TagSet>{tags}</TagSet></Tagging>");
        Ok(self
            .call("PUT", key, "tagging", body.into_bytes())
            .await?
            .is_some())
    }

    /// Deletes the object; deleting one that is not there succeeds, as on S3.
    pub async fn delete(&self, key: &str) -> Result<(), S3Error> {
        self.call("DELETE", key, "", Vec::new()).await.map(drop)
    }

    /// Every key under `prefix`.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, S3Error> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut query = format!(
                "list-type=2&prefix={}",
                utf8_percent_encode(prefix, UNRESERVED)
            );
            if let Some(token) = &token {
                query = format!(
                    "continuation-token={}&{query}",
                    utf8_percent_encode(token, UNRESERVED)
                );
            }
            let Some((_, body)) = self.call("GET", "", &query, Vec::new()).await? else {
                return Ok(keys);
            };
            let body = String::from_utf8_lossy(&body);
            for contents in elements(&body, "Contents") {
                keys.extend(elements(contents, "Key").into_iter().map(unescape));
            }
            token = elements(&body, "NextContinuationToken")
                .into_iter()
                .next()
                .map(unescape);
            if token.is_none() {
                return Ok(keys);
            }
        }
    }

    fn host(&self) -> String {
        self.origin
            .split_once("://")
            .map_or(self.origin.as_str(), |(_, host)| host)
            .to_owned()
    }

    fn params<'a>(
        &'a self,
        settings: &SigningSettings,
    ) -> Result<v4::SigningParams<'a, SigningSettings>, S3Error> {
        v4::SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name("s3")
            .time(SystemTime::now())
            .settings(settings.clone())
            .build()
            .map_err(|e| S3Error::Signing(e.to_string()))
    }

    /// One signed call; `None` for a 404 (no such object).
    async fn call(
        &self,
        method: &str,
        key: &str,
        query: &str,
        body: Vec<u8>,
    ) -> Result<Option<(HeaderMap, Vec<u8>)>, S3Error> {
        let path = if key.is_empty() {
            self.prefix.trim_end_matches('/').to_owned()
        } else {
            self.path(key)
        };
        let path = if path.is_empty() { "/".into() } else { path };
        let url = if query.is_empty() {
            format!("{}{path}", self.origin)
        } else {
            format!("{}{path}?{query}", self.origin)
        };
        let host = self.host();
        let checksum = (!body.is_empty())
            .then(|| base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&body)));
        let mut headers = vec![("host", host.as_str())];
        if let Some(checksum) = &checksum {
            headers.push(("x-amz-checksum-sha256", checksum.as_str()));
        }
        let mut settings = s3_settings();
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let request = SignableRequest::new(
            method,
            &url,
            headers.iter().copied(),
            SignableBody::Bytes(&body),
        )
        .map_err(|e| S3Error::Signing(e.to_string()))?;
        let (instructions, _) = sign(request, &self.params(&settings)?.into())
            .map_err(|e| S3Error::Signing(e.to_string()))?
            .into_parts();
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|e| S3Error::Signing(e.to_string()))?;
        let mut request = self.http.request(method, &url).timeout(TIMEOUT);
        for (name, value) in headers.iter().filter(|(name, _)| *name != "host") {
            request = request.header(*name, *value);
        }
        for (name, value) in instructions.headers() {
            request = request.header(name, value);
        }
        // Counted with the request's other upstream waits and round trips.
        let exchange = async {
            let answer = request.body(body).send().await?;
            let status = answer.status().as_u16();
            let headers = answer.headers().clone();
            Ok::<_, reqwest::Error>((status, headers, answer.bytes().await?.to_vec()))
        };
        let (status, headers, body) = count_upstream(exchange)
            .await
            .map_err(|e| S3Error::Unreachable(e.without_url().to_string()))?;
        match status {
            200..=299 => Ok(Some((headers, body))),
            404 => Ok(None),
            _ => {
                let text = String::from_utf8_lossy(&body);
                let code = elements(&text, "Code")
                    .into_iter()
                    .next()
                    .unwrap_or("")
                    .to_owned();
                Err(S3Error::Refused { status, code })
            }
        }
    }
}

/// S3's flavour of SigV4: paths escaped once and never normalised.
fn s3_settings() -> SigningSettings {
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings
}

/// The contents of each `<name>…</name>` in `xml`, in order; S3's answers are flat enough
/// for this.
fn elements<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    let mut found = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else { break };
        found.push(&after[..end]);
        rest = &after[end + close.len()..];
    }
    found
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(endpoint: Option<&str>) -> AwsSettings {
        AwsSettings {
            region: "us-east-1".into(),
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
            secrets_manager_endpoint: None,
            dynamodb_endpoint: None,
            s3_endpoint: endpoint.map(str::to_owned),
        }
    }

    #[test]
    fn a_bucket_on_aws_is_in_the_host_and_on_a_local_endpoint_in_the_path() {
        let http = reqwest::Client::new();
        let aws = Bucket::new(http.clone(), "files", &settings(None));
        assert_eq!(aws.origin(), "https://files.s3.us-east-1.amazonaws.com");
        assert_eq!(
            aws.path("threads/19:a@thread.v2/x"),
            "/threads/19%3Aa%40thread.v2/x"
        );
        let local = Bucket::new(http, "files", &settings(Some("http://127.0.0.1:4566/")));
        assert_eq!(local.origin(), "http://127.0.0.1:4566");
        assert_eq!(local.path("a b/c"), "/files/a%20b/c");
    }

    #[test]
    fn a_presigned_url_names_its_signed_headers_and_lifetime_and_holds_no_secret() {
        let bucket = Bucket::new(reqwest::Client::new(), "files", &settings(None));
        let url = bucket
            .presign(
                "PUT",
                "threads/t/k",
                &[("content-type", "image/png"), ("content-length", "5")],
                &[],
                Duration::from_secs(300),
            )
            .unwrap();
        assert!(url.starts_with("https://files.s3.us-east-1.amazonaws.com/threads/t/k?"));
        assert!(url.contains("X-Amz-Expires=300"), "{url}");
        assert!(
            url.contains("X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost"),
            "{url}"
        );
        assert!(url.contains("X-Amz-Credential=AKIDEXAMPLE%2F"), "{url}");
        assert!(!url.contains("wJalrXUtnFEMI"), "{url}");
    }

    #[test]
    fn xml_answers_are_read_element_by_element() {
        let xml = "<R><Contents><Key>a&amp;b</Key></Contents><Contents><Key>c</Key></Contents></R>";
        let keys: Vec<String> = elements(xml, "Contents")
            .into_iter()
            .flat_map(|c| elements(c, "Key"))
            .map(unescape)
            .collect();
        assert_eq!(keys, ["a&b", "c"]);
        assert_eq!(unescape(&escape("<x&y>")), "<x&y>");
    }
}
