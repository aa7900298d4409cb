//! The real-time API's authorizer: wiring only; the handler is
//! `acs_chat_api::api::realtime_auth`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    acs_chat_api::api::realtime_auth::run().await
}
