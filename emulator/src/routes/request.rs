//! Decoding an HTTP request into what routing needs: the raw target (for HMAC), the
//! percent-decoded path segments and query, the headers and the body.

use std::collections::HashMap;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request};
use percent_encoding::percent_decode_str;
use serde::Deserialize;

use crate::failure::Failure;

/// Largest request body the emulator reads.
const MAX_BODY: usize = 1024 * 1024;

/// Why a request could not be decoded.
pub enum Undecodable {
    TooLarge,
    BadPath,
}

/// A request as the routes read it.
pub struct Call {
    pub method: Method,
    /// The target as sent, which is what the HMAC signature covers.
    pub path_and_query: String,
    pub segments: Vec<String>,
    pub query: HashMap<String, String>,
    pub host: String,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

impl Call {
    /// Reads the whole request, body included.
    pub async fn read(request: Request<Incoming>) -> Result<Self, Undecodable> {
        let (parts, body) = request.into_parts();
        let body = Limited::new(body, MAX_BODY)
            .collect()
            .await
            .map_err(|_| Undecodable::TooLarge)?
            .to_bytes();
        let segments = parts
            .uri
            .path()
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| percent_decode_str(s).decode_utf8().map(String::from))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| Undecodable::BadPath)?;
        let query = form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
        // HTTP/2 names the host in the `:authority` pseudo-header, HTTP/1.1 in `Host`.
        let host = parts
            .headers
            .get(hyper::header::HOST)
            .and_then(|v| v.to_str().ok())
            .or_else(|| parts.uri.authority().map(|a| a.as_str()))
            .unwrap_or_default()
            .to_owned();
        Ok(Self {
            path_and_query: parts
                .uri
                .path_and_query()
                .map_or_else(|| "/".into(), |pq| pq.as_str().to_owned()),
            method: parts.method,
            segments,
            query,
            host,
            headers: parts.headers,
            body,
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON, refused as ACS refuses an unreadable body.
    pub fn json_body<T: for<'de> Deserialize<'de>>(&self) -> Result<T, Failure> {
        serde_json::from_slice(&self.body)
            .map_err(|e| Failure::BadRequest(format!("The request body is invalid: {e}")))
    }

    /// True when the body is empty or only white space.
    pub fn body_is_blank(&self) -> bool {
        self.body.iter().all(u8::is_ascii_whitespace)
    }

    /// The `Authorization: Bearer` token, if any.
    pub fn bearer(&self) -> Option<&str> {
        let (scheme, token) = self.header("authorization")?.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_decodes_percent_escapes_and_plus_signs() {
        let query: HashMap<String, String> = form_urlencoded::parse(
            b"startTime=2024-01-05T10%3A00%3A00.000Z&maxPageSize=5&api-version=v&q=a+b",
        )
        .into_owned()
        .collect();
        assert_eq!(query["startTime"], "2024-01-05T10:00:00.000Z");
        assert_eq!(query["maxPageSize"], "5");
        assert_eq!(query["q"], "a b");
    }

    #[test]
    fn a_path_segment_decodes_to_the_raw_id() {
        let decoded = percent_decode_str("19%3Aabc%40thread.v2")
            .decode_utf8()
            .unwrap();
        assert_eq!(decoded, "19:abc@thread.v2");
        assert!(percent_decode_str("%FF%FE").decode_utf8().is_err());
    }
}
