//! The `refresh_token` function: wiring only; the endpoint is `api::endpoints::refresh_token`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    acs_chat_api::api::run::<acs_chat_api::api::endpoints::RefreshToken>().await
}
