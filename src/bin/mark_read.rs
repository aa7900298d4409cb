//! The `mark_read` function: wiring only; the endpoint is `api::endpoints::mark_read`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    acs_chat_api::api::run::<acs_chat_api::api::endpoints::MarkRead>().await
}
