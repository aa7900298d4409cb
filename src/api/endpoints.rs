//! The one table of functions. Each file of `endpoints/` is one function (its binary, its
//! route, its `events/` folder and its SAM `Binary` are the same word): an [`Endpoint`] type
//! that names itself, reads its request, checks who calls, and acts. The list below is the only
//! place the functions are listed; a test holds Cargo.toml's binaries and router,
//! `template.yaml`, `openapi.yaml` and `events/` to it.

use lambda_http::{Body, Request, Response};

use super::endpoint::{Endpoint, handle};
use super::spec::Spec;
use super::state::AppState;
use super::telemetry::{RequestIds, Timing};

macro_rules! functions {
    ($($variant:ident => $module:ident :: $endpoint:ident,)*) => {
        $(pub mod $module;)*
        pub mod realtime_auth;

        $(pub use $module::$endpoint;)*

        /// The HTTP functions, by name, for what needs them all at once: the tests, which
        /// drive every endpoint with one state, and the checks of the table against the
        /// deployment. A function's own binary never names this: it runs its endpoint alone.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Function {
            $($variant,)*
        }

        impl Function {
            /// Every HTTP function: the original app's six in its README's order, then the
            /// rest of a chat's life, the page, and the Event Grid webhook.
            pub const ALL: &[Function] = &[$(Self::$variant,)*];

            /// What the table says of it.
            pub fn spec(self) -> &'static Spec {
                match self {
                    $(Self::$variant => &<$endpoint as Endpoint>::SPEC,)*
                }
            }

            pub fn name(self) -> &'static str {
                self.spec().name
            }

            /// Serves `request` as this function does.
            pub async fn handle(
                self,
                state: &AppState,
                request: Request,
            ) -> (Response<Body>, Timing, RequestIds) {
                match self {
                    $(Self::$variant => boxed::<$endpoint>(state, request).await,)*
                }
            }
        }

        /// Every function of the deployment, the real-time API's authorizer included.
        pub fn specs() -> Vec<&'static Spec> {
            let mut specs: Vec<&'static Spec> = Function::ALL.iter().map(|f| f.spec()).collect();
            specs.push(&realtime_auth::SPEC);
            specs
        }
    };
}

/// One endpoint's handling, made on the heap in a frame of its own: a many-way match over the
/// futures themselves passes the compiler's depth limit, and one that builds each in place
/// reserves stack for the largest of them all, which overflows a test thread's stack.
#[inline(never)]
fn boxed<'a, E: Endpoint + 'a>(state: &'a AppState, request: Request) -> Handling<'a> {
    Box::pin(handle::<E>(state, request))
}

/// A request being handled, on the heap; its answer, timing and ids.
type Handling<'a> =
    std::pin::Pin<Box<dyn Future<Output = (Response<Body>, Timing, RequestIds)> + Send + 'a>>;

functions! {
    CreateUsers => create_users::CreateUsers,
    CreateThread => create_thread::CreateThread,
    AddUser => add_user::AddUser,
    SendMessage => send_message::SendMessage,
    GetMessages => get_messages::GetMessages,
    GetAllMessages => get_all_messages::GetAllMessages,
    RefreshToken => refresh_token::RefreshToken,
    DeleteUser => delete_user::DeleteUser,
    ListThreads => list_threads::ListThreads,
    GetParticipants => get_participants::GetParticipants,
    GetThread => get_thread::GetThread,
    RemoveUser => remove_user::RemoveUser,
    UpdateMessage => update_message::UpdateMessage,
    DeleteMessage => delete_message::DeleteMessage,
    SendTyping => send_typing::SendTyping,
    UpdateThread => update_thread::UpdateThread,
    DeleteThread => delete_thread::DeleteThread,
    SignIn => sign_in::SignIn,
    SignOut => sign_out::SignOut,
    MarkRead => mark_read::MarkRead,
    MuteThread => mute_thread::MuteThread,
    UploadUrl => upload_url::UploadUrl,
    DownloadUrl => download_url::DownloadUrl,
    PushSubscribe => push_subscribe::PushSubscribe,
    PushUnsubscribe => push_unsubscribe::PushUnsubscribe,
    Page => page::Page,
    AcsEvents => acs_events::AcsEvents,
}
