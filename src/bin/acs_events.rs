//! The `acs_events` function: wiring only; the endpoint is `api::endpoints::acs_events`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    acs_chat_api::api::run::<acs_chat_api::api::endpoints::AcsEvents>().await
}
