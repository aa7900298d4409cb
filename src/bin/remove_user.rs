//! The `remove_user` function: wiring only; the endpoint is `api::endpoints::remove_user`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    acs_chat_api::api::run::<acs_chat_api::api::endpoints::RemoveUser>().await
}
