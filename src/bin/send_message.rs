//! The `send_message` function: wiring only; the endpoint is `api::endpoints::send_message`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    acs_chat_api::api::run::<acs_chat_api::api::endpoints::SendMessage>().await
}
