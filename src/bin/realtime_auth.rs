//! The real-time API's authorizer: wiring only; it is `api::endpoints::realtime_auth`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    acs_chat_api::api::endpoints::realtime_auth::run().await
}
