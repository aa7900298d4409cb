//! The ACS connection string, `endpoint=https://<resource>.communication.azure.com/;accesskey=<base64>`.
//!
//! Parsed the way the official Python SDK parses it (split on `;`, split each part at the first `=`,
//! keys compared case-insensitively, unknown keys ignored), except that the scheme the user wrote
//! is kept so that a local emulator can be reached over plain HTTP.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::Url;

/// Why a connection string was refused. None of the variants carries the key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConnectionStringError {
    #[error("connection string has no endpoint")]
    MissingEndpoint,
    #[error("connection string has no accesskey")]
    MissingAccessKey,
    #[error("connection string endpoint is not an http(s) URL with a host")]
    InvalidEndpoint,
    #[error("connection string accesskey is not valid base64")]
    InvalidAccessKey,
}

/// The decoded HMAC key. Its `Debug` never prints the bytes, so a stray `{:?}` cannot leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKey(Vec<u8>);

impl AccessKey {
    /// Decodes a base64 access key as the portal shows it.
    pub fn from_base64(encoded: &str) -> Result<Self, ConnectionStringError> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .map_err(|_| ConnectionStringError::InvalidAccessKey)?;
        if bytes.is_empty() {
            return Err(ConnectionStringError::InvalidAccessKey);
        }
        Ok(Self(bytes))
    }

    /// The raw key bytes, for HMAC.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The key in the base64 form a connection string carries.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(&self.0)
    }
}

impl fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessKey(REDACTED)")
    }
}

/// A parsed connection string: where the resource is and the key that signs identity calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionString {
    endpoint: Url,
    access_key: AccessKey,
}

impl ConnectionString {
    /// Parses `endpoint=...;accesskey=...` in any order and case, with or without a trailing slash.
    pub fn parse(raw: &str) -> Result<Self, ConnectionStringError> {
        let mut endpoint = None;
        let mut access_key = None;
        for part in raw.trim().split(';') {
            let Some((key, value)) = part.split_once('=') else {
                continue;
            };
            match key.trim().to_ascii_lowercase().as_str() {
                "endpoint" => endpoint = Some(value.trim()),
                "accesskey" => access_key = Some(value.trim()),
                _ => {}
            }
        }
        let endpoint = endpoint
            .filter(|e| !e.is_empty())
            .ok_or(ConnectionStringError::MissingEndpoint)?;
        let access_key = access_key
            .filter(|k| !k.is_empty())
            .ok_or(ConnectionStringError::MissingAccessKey)?;
        Ok(Self {
            endpoint: parse_endpoint(endpoint)?,
            access_key: AccessKey::from_base64(access_key)?,
        })
    }

    /// Builds one from parts, as the emulator does when it prints its own.
    pub fn new(endpoint: Url, access_key: AccessKey) -> Self {
        Self {
            endpoint,
            access_key,
        }
    }

    /// The resource endpoint, always ending in `/` so that joins keep its path.
    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// The decoded signing key.
    pub fn access_key(&self) -> &AccessKey {
        &self.access_key
    }

    /// The string form, with the key: only for writing it where secrets belong.
    pub fn expose(&self) -> String {
        format!(
            "endpoint={};accesskey={}",
            self.endpoint,
            self.access_key.to_base64()
        )
    }
}

impl FromStr for ConnectionString {
    type Err = ConnectionStringError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Parses an ACS endpoint URL (http or https, with a host) and normalises it to end in `/`.
pub fn parse_endpoint(raw: &str) -> Result<Url, ConnectionStringError> {
    let trimmed = raw.trim().trim_end_matches('/');
    let url =
        Url::parse(&format!("{trimmed}/")).map_err(|_| ConnectionStringError::InvalidEndpoint)?;
    let scheme_ok = matches!(url.scheme(), "http" | "https");
    if !scheme_ok || url.host_str().is_none() || url.query().is_some() {
        return Err(ConnectionStringError::InvalidEndpoint);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    #[test]
    fn parses_keys_in_any_order_and_case() {
        let cases = [
            "endpoint=https://contoso.communication.azure.com/;accesskey=KEY",
            "ENDPOINT=https://contoso.communication.azure.com;AccessKey=KEY;",
            "accesskey=KEY;endpoint=https://contoso.communication.azure.com//",
            " endpoint = https://contoso.communication.azure.com/ ; accesskey=KEY ; extra=1",
        ];
        for case in cases {
            let parsed = ConnectionString::parse(&case.replace("KEY", KEY)).expect(case);
            assert_eq!(
                parsed.endpoint().as_str(),
                "https://contoso.communication.azure.com/",
                "{case}"
            );
            assert_eq!(
                parsed.access_key().bytes(),
                (0u8..32).collect::<Vec<_>>(),
                "{case}"
            );
        }
    }

    #[test]
    fn keeps_the_scheme_and_port_the_user_wrote() {
        let parsed =
            ConnectionString::parse(&format!("endpoint=http://127.0.0.1:8080;accesskey={KEY}"))
                .unwrap();
        assert_eq!(parsed.endpoint().as_str(), "http://127.0.0.1:8080/");
    }

    #[test]
    fn keeps_the_base64_padding_after_the_first_equals_sign() {
        let parsed = ConnectionString::parse("endpoint=https://x.example/;accesskey=YWJj").unwrap();
        assert_eq!(parsed.access_key().bytes(), b"abc");
        let padded = ConnectionString::parse("endpoint=https://x.example/;accesskey=YWI=").unwrap();
        assert_eq!(padded.access_key().bytes(), b"ab");
    }

    #[test]
    fn refuses_each_malformed_form_with_its_own_error() {
        use ConnectionStringError::*;
        let cases = [
            ("", MissingEndpoint),
            ("accesskey=YWJj", MissingEndpoint),
            ("endpoint=;accesskey=YWJj", MissingEndpoint),
            ("endpoint=https://x/;", MissingAccessKey),
            ("endpoint=https://x/;accesskey=", MissingAccessKey),
            ("endpoint=contoso;accesskey=YWJj", InvalidEndpoint),
            ("endpoint=ftp://x/;accesskey=YWJj", InvalidEndpoint),
            ("endpoint=https://x/?a=b;accesskey=YWJj", InvalidEndpoint),
            (
                "endpoint=https://x/;accesskey=not base64!",
                InvalidAccessKey,
            ),
        ];
        for (raw, expected) in cases {
            assert_eq!(ConnectionString::parse(raw), Err(expected), "{raw:?}");
        }
    }

    #[test]
    fn debug_output_never_contains_the_key() {
        let parsed =
            ConnectionString::parse(&format!("endpoint=https://x.example/;accesskey={KEY}"))
                .unwrap();
        let printed = format!("{parsed:?}");
        assert!(!printed.contains(KEY), "{printed}");
        assert!(printed.contains("REDACTED"), "{printed}");
    }

    #[test]
    fn expose_round_trips() {
        let raw = format!("endpoint=https://x.example/;accesskey={KEY}");
        let parsed = ConnectionString::parse(&raw).unwrap();
        assert_eq!(ConnectionString::parse(&parsed.expose()).unwrap(), parsed);
    }
}
