//! The AWS SDKs on our one HTTP client.
//!
//! The SDKs bring an HTTP client of their own (hyper and rustls, with its own certificate store
//! and connection pool). Ours is already there for ACS, so the SDKs send through it instead:
//! one TLS configuration, one read of the certificate store per container (the largest part of
//! a function's start-up), and the SDK's own client left out of every binary.
//!
//! Credentials and region are what Lambda puts in every function's environment, read directly
//! rather than through aws-config's provider chain, which would link STS and SSO clients.

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector, http_client_fn,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_types::body::SdkBody;
use aws_types::SdkConfig;
use aws_types::region::Region;

use crate::settings::Lookup;

/// Where and as whom the AWS SDKs call: what Lambda puts in every function's environment.
#[derive(Clone, PartialEq, Eq)]
pub struct AwsSettings {
    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`.
    pub region: String,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`: the execution
    /// role's credentials.
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    /// `AWS_ENDPOINT_URL_SECRETS_MANAGER`, else `AWS_ENDPOINT_URL`: another Secrets Manager
    /// (moto, ministack), as every AWS SDK allows.
    pub secrets_manager_endpoint: Option<String>,
    /// `AWS_ENDPOINT_URL_DYNAMODB`, else `AWS_ENDPOINT_URL`: another DynamoDB.
    pub dynamodb_endpoint: Option<String>,
    /// `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`: another S3, which serves buckets by path.
    pub s3_endpoint: Option<String>,
}

impl std::fmt::Debug for AwsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsSettings")
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"REDACTED")
            .field("secrets_manager_endpoint", &self.secrets_manager_endpoint)
            .field("dynamodb_endpoint", &self.dynamodb_endpoint)
            .field("s3_endpoint", &self.s3_endpoint)
            .finish_non_exhaustive()
    }
}

impl AwsSettings {
    /// Reads the region and credentials; `None` when one of them is not set.
    pub fn read(settings: &Lookup) -> Option<Self> {
        let get = |name| settings.get(name);
        Some(Self {
            region: get("AWS_REGION").or_else(|| get("AWS_DEFAULT_REGION"))?,
            access_key_id: get("AWS_ACCESS_KEY_ID")?,
            secret_access_key: get("AWS_SECRET_ACCESS_KEY")?,
            session_token: get("AWS_SESSION_TOKEN"),
            secrets_manager_endpoint: get("AWS_ENDPOINT_URL_SECRETS_MANAGER")
                .or_else(|| get("AWS_ENDPOINT_URL")),
            dynamodb_endpoint: get("AWS_ENDPOINT_URL_DYNAMODB").or_else(|| get("AWS_ENDPOINT_URL")),
            s3_endpoint: get("AWS_ENDPOINT_URL_S3").or_else(|| get("AWS_ENDPOINT_URL")),
        })
    }
}

/// How long an AWS call may take when the SDK sets no read timeout of its own.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The settings every AWS client of a container shares.
pub fn sdk_config(settings: &AwsSettings, http: &reqwest::Client) -> SdkConfig {
    let credentials = Credentials::new(
        &settings.access_key_id,
        &settings.secret_access_key,
        settings.session_token.clone(),
        None,
        "lambda-environment",
    );
    SdkConfig::builder()
        .behavior_version(
            aws_smithy_runtime_api::client::behavior_version::BehaviorVersion::latest(),
        )
        .region(Region::new(settings.region.clone()))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .http_client(http_client(http.clone()))
        .build()
}

/// The SDKs' HTTP client: each request goes out through `http`.
pub fn http_client(http: reqwest::Client) -> SharedHttpClient {
    http_client_fn(move |settings: &HttpConnectorSettings, _| {
        SharedHttpConnector::new(Reqwest {
            http: http.clone(),
            timeout: settings.read_timeout().unwrap_or(DEFAULT_TIMEOUT),
        })
    })
}

#[derive(Debug)]
struct Reqwest {
    http: reqwest::Client,
    timeout: Duration,
}

impl HttpConnector for Reqwest {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let http = self.http.clone();
        let timeout = self.timeout;
        HttpConnectorFuture::new(async move {
            let request = into_reqwest(request)?;
            let exchange = async {
                let answer = http.execute(request).await?;
                let status = answer.status();
                let headers = answer.headers().clone();
                Ok::<_, reqwest::Error>((status, headers, answer.bytes().await?))
            };
            let (status, headers, body) = tokio::time::timeout(timeout, exchange)
                .await
                .map_err(|_| ConnectorError::timeout("no answer in time".into()))?
                .map_err(|e| connector_error(&e))?;
            let mut response = lambda_http::http::Response::builder().status(status);
            for (name, value) in &headers {
                response = response.header(name, value);
            }
            let response = response
                .body(SdkBody::from(body))
                .map_err(|e| ConnectorError::other(e.into(), None))?;
            HttpResponse::try_from(response).map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}

/// The SDK's request as reqwest's. Our services' requests are small JSON documents, held in
/// memory; a streamed body is refused rather than read into memory unseen.
fn into_reqwest(request: HttpRequest) -> Result<reqwest::Request, ConnectorError> {
    let request = request
        .try_into_http1x()
        .map_err(|e| ConnectorError::user(e.into()))?;
    let (parts, body) = request.into_parts();
    let bytes = body
        .bytes()
        .ok_or_else(|| ConnectorError::user("a streamed request body".into()))?
        .to_vec();
    let request = lambda_http::http::Request::from_parts(parts, bytes);
    reqwest::Request::try_from(request).map_err(|e| ConnectorError::user(e.into()))
}

/// Tells the SDK's retry logic what happened: a timeout, no connection, or something else.
fn connector_error(error: &reqwest::Error) -> ConnectorError {
    let text = error.to_string();
    if error.is_timeout() {
        ConnectorError::timeout(text.into())
    } else if error.is_connect() {
        ConnectorError::io(text.into()).never_connected()
    } else {
        ConnectorError::io(text.into())
    }
}
