//! The `get_all_messages` Lambda function: wiring only; the handler is `acs_chat_api::api::get_all_messages`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    acs_chat_api::api::run(acs_chat_api::api::Function::GetAllMessages).await
}
