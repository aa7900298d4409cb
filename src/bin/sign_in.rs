//! The `sign_in` function: wiring only; the endpoint is `api::endpoints::sign_in`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    acs_chat_api::api::run::<acs_chat_api::api::endpoints::SignIn>().await
}
