//! The `page` Lambda function: wiring only; the page is `acs_chat_api::api::page`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    acs_chat_api::api::run(acs_chat_api::api::Function::Page).await
}
