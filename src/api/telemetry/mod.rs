//! What each request leaves behind: its ids on every log line ([`logging`]), and one metrics
//! record ([`metrics`]) with its [`Timing`].

pub mod logging;
pub mod metrics;

use std::time::Duration;

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

use crate::acs::http::UpstreamTime;

/// How long a request took, and how much of that was waiting on ACS.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub total: Duration,
    pub upstream: UpstreamTime,
}

/// The ids one request is known by, put on every log line of that request.
#[derive(Debug, Clone)]
pub struct RequestIds {
    /// API Gateway's, when the request came through it.
    pub api_gateway: Option<String>,
    /// Lambda's invocation id; also sent to ACS as `x-ms-client-request-id` on every call, so
    /// one id follows the request from our log to ACS's. Made up when not run by Lambda.
    pub lambda: String,
}

impl RequestIds {
    pub fn of(request: &Request) -> Self {
        let api_gateway = match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(context)) => context.request_id.clone(),
            _ => None,
        };
        let lambda = request
            .lambda_context_ref()
            .map(|context| context.request_id.clone())
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        Self {
            api_gateway,
            lambda,
        }
    }
}
