//! The `get_all_messages` function: wiring only; the endpoint is `api::endpoints::get_all_messages`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    acs_chat_api::api::run::<acs_chat_api::api::endpoints::GetAllMessages>().await
}
