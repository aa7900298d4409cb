//! The `remove_user` Lambda function: wiring only; the handler is `acs_chat_api::api::remove_user`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    acs_chat_api::api::run(acs_chat_api::api::Function::RemoveUser).await
}
