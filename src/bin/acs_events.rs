//! The `acs_events` Lambda function: wiring only; the handler is `acs_chat_api::api::acs_events`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    acs_chat_api::api::run(acs_chat_api::api::Function::AcsEvents).await
}
