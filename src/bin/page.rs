//! The `page` function: wiring only; the endpoint is `api::endpoints::page`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    acs_chat_api::api::run::<acs_chat_api::api::endpoints::Page>().await
}
