//! HMAC-SHA256 request signing for the ACS Identity API (Chat uses bearer tokens instead).
//!
//! Pure functions with the time passed in, so the same code signs requests, verifies them in the
//! emulator, and is checked against vectors produced by the official SDK's own signing policy.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use reqwest::Url;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::FormatItem;
use time::macros::format_description;

use super::connection_string::AccessKey;
use super::error::AcsError;

/// The `SignedHeaders` list ACS expects, in this order.
pub const SIGNED_HEADERS: &str = "x-ms-date;host;x-ms-content-sha256";

const HTTP_DATE: &[FormatItem<'static>] = format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);

/// The headers that carry a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequestHeaders {
    /// `x-ms-date`, RFC 1123 in GMT.
    pub date: String,
    /// `x-ms-content-sha256`, base64 of the body's SHA-256.
    pub content_sha256: String,
    /// `Authorization: HMAC-SHA256 SignedHeaders=...&Signature=...`.
    pub authorization: String,
}

/// `x-ms-date` as ACS wants it: `Fri, 05 Jan 2024 10:20:30 GMT`; a time outside the years the
/// format can write is refused rather than signed as an empty date.
pub fn format_date(at: OffsetDateTime) -> Result<String, AcsError> {
    let utc = at.to_offset(time::UtcOffset::UTC);
    utc.format(HTTP_DATE)
        .map_err(|e| AcsError::Unsendable(format!("x-ms-date: {e}")))
}

/// Reads an `x-ms-date` value back, for skew checks.
pub fn parse_date(value: &str) -> Option<OffsetDateTime> {
    let parsed = time::PrimitiveDateTime::parse(value.trim(), HTTP_DATE).ok()?;
    Some(parsed.assume_utc())
}

/// `x-ms-content-sha256`: base64 of SHA-256 over the exact body bytes (empty body included).
pub fn content_hash(body: &[u8]) -> String {
    STANDARD.encode(Sha256::digest(body))
}

/// The authority that is signed: the host, plus `:port` when the port is not the scheme's default.
pub fn signed_host(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// The request target as it goes on the wire: path plus `?query` when there is one.
pub fn path_and_query(url: &Url) -> String {
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    }
}

/// The string ACS signs, three lines joined by `\n` with no trailing newline:
///
/// ```text
/// POST
/// /identities?api-version=2023-10-01
/// Fri, 05 Jan 2024 10:20:30 GMT;contoso.communication.azure.com;<x-ms-content-sha256>
/// ```
pub fn string_to_sign(
    method: &str,
    path_and_query: &str,
    date: &str,
    host: &str,
    content_sha256: &str,
) -> String {
    format!(
        "{}\n{path_and_query}\n{date};{host};{content_sha256}",
        method.to_ascii_uppercase()
    )
}

fn mac(key: &AccessKey, message: &str) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(message.as_bytes());
    mac
}

/// base64 of HMAC-SHA256 over `string_to_sign` with the decoded access key.
pub fn signature(key: &AccessKey, string_to_sign: &str) -> String {
    STANDARD.encode(mac(key, string_to_sign).finalize().into_bytes())
}

/// Checks a base64 signature in constant time.
pub fn verify_signature(key: &AccessKey, string_to_sign: &str, signature_b64: &str) -> bool {
    let Ok(given) = STANDARD.decode(signature_b64) else {
        return false;
    };
    mac(key, string_to_sign).verify_slice(&given).is_ok()
}

/// The `Authorization` header value for a signature.
pub fn authorization(signature: &str) -> String {
    format!("HMAC-SHA256 SignedHeaders={SIGNED_HEADERS}&Signature={signature}")
}

/// Reads the signature out of an `Authorization` header, if it signs the headers ACS expects.
pub fn parse_authorization(header: &str) -> Option<&str> {
    let rest = header.strip_prefix("HMAC-SHA256 ")?;
    let (signed, signature) = rest.split_once('&')?;
    let signed = signed.strip_prefix("SignedHeaders=")?;
    let signature = signature.strip_prefix("Signature=")?;
    (signed.eq_ignore_ascii_case(SIGNED_HEADERS) && !signature.is_empty()).then_some(signature)
}

/// Signs one request: everything the three headers need comes from the URL, the body and `now`.
pub fn sign(
    key: &AccessKey,
    method: &str,
    url: &Url,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<SignedRequestHeaders, AcsError> {
    let date = format_date(now)?;
    let content_sha256 = content_hash(body);
    let to_sign = string_to_sign(
        method,
        &path_and_query(url),
        &date,
        &signed_host(url),
        &content_sha256,
    );
    Ok(SignedRequestHeaders {
        authorization: authorization(&signature(key, &to_sign)),
        date,
        content_sha256,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    /// Produced by `scripts/signing_vectors.py`, which runs the official Python SDK's
    /// `HMACCredentialsPolicy` with its clock frozen; `tests/sdk` re-runs it and compares.
    const VECTORS: &str = include_str!("testdata/hmac_vectors.json");

    #[derive(Deserialize)]
    struct Vectors {
        access_key: String,
        cases: Vec<Case>,
    }

    #[derive(Deserialize)]
    struct Case {
        name: String,
        method: String,
        url: String,
        body: String,
        date: String,
        string_to_sign: String,
        content_sha256: String,
        authorization: String,
    }

    fn vectors() -> Vectors {
        serde_json::from_str(VECTORS).unwrap()
    }

    #[test]
    fn signs_exactly_like_the_official_sdk() {
        let vectors = vectors();
        let key = AccessKey::from_base64(&vectors.access_key).unwrap();
        assert!(!vectors.cases.is_empty());
        for case in vectors.cases {
            let url = Url::parse(&case.url).unwrap();
            let now = parse_date(&case.date).unwrap();
            let signed = sign(&key, &case.method, &url, case.body.as_bytes(), now).unwrap();
            let to_sign = string_to_sign(
                &case.method,
                &path_and_query(&url),
                &signed.date,
                &signed_host(&url),
                &signed.content_sha256,
            );
            assert_eq!(to_sign, case.string_to_sign, "{}", case.name);
            assert_eq!(signed.date, case.date, "{}", case.name);
            assert_eq!(signed.content_sha256, case.content_sha256, "{}", case.name);
            assert_eq!(signed.authorization, case.authorization, "{}", case.name);
        }
    }

    #[test]
    fn verifies_its_own_signature_and_rejects_a_changed_one() {
        let key = AccessKey::from_base64(&vectors().access_key).unwrap();
        let to_sign = string_to_sign("POST", "/identities", "d", "h", &content_hash(b""));
        let sig = signature(&key, &to_sign);
        assert!(verify_signature(&key, &to_sign, &sig));
        assert!(!verify_signature(
            &key,
            &to_sign.replace("POST", "GET"),
            &sig
        ));
        assert!(!verify_signature(&key, &to_sign, "not base64"));
    }

    #[test]
    fn hashes_an_empty_body_to_the_documented_value() {
        assert_eq!(
            content_hash(b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn signs_the_port_only_when_it_is_not_the_default() {
        let with_port = Url::parse("https://127.0.0.1:8443/identities").unwrap();
        let without = Url::parse("https://contoso.communication.azure.com:443/").unwrap();
        assert_eq!(signed_host(&with_port), "127.0.0.1:8443");
        assert_eq!(signed_host(&without), "contoso.communication.azure.com");
    }

    #[test]
    fn date_formats_and_parses_back() {
        let at = time::macros::datetime!(2024-01-05 10:20:30 UTC);
        assert_eq!(format_date(at).unwrap(), "Fri, 05 Jan 2024 10:20:30 GMT");
        assert_eq!(parse_date("Fri, 05 Jan 2024 10:20:30 GMT"), Some(at));
        assert_eq!(parse_date("yesterday"), None);
    }

    #[test]
    fn reads_the_signature_out_of_an_authorization_header() {
        let header = authorization("abc=");
        assert_eq!(parse_authorization(&header), Some("abc="));
        assert_eq!(parse_authorization("Bearer abc"), None);
        assert_eq!(
            parse_authorization("HMAC-SHA256 SignedHeaders=host&Signature=abc="),
            None
        );
    }
}
