//! The `send_typing` function: wiring only; the endpoint is `api::endpoints::send_typing`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    acs_chat_api::api::run::<acs_chat_api::api::endpoints::SendTyping>().await
}
