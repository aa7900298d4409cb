//! A thread's channel: `/threads/` and the thread id, hex-encoded and cut into segments of at
//! most 50 characters, as AppSync Events channel names allow only letters, digits and dashes.

use crate::acs::ThreadId;

/// The namespace every thread channel lives in.
pub const NAMESPACE: &str = "threads";

const SEGMENT: usize = 50;

/// The channel of `thread_id`.
pub fn of(thread_id: &ThreadId) -> String {
    let hex: String = thread_id
        .as_str()
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect();
    let segments: Vec<&str> = hex
        .as_bytes()
        .chunks(SEGMENT)
        .filter_map(|chunk| std::str::from_utf8(chunk).ok())
        .collect();
    format!("/{NAMESPACE}/{}", segments.join("/"))
}

/// The thread a channel belongs to; `None` for anything not made by [`of`].
pub fn thread(channel: &str) -> Option<ThreadId> {
    let rest = channel.trim_matches('/').strip_prefix(NAMESPACE)?;
    let hex: String = rest.split('/').collect();
    if hex.is_empty() || !hex.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    let thread_id = ThreadId::parse(&String::from_utf8(bytes?).ok()?).ok()?;
    (of(&thread_id) == format!("/{}", channel.trim_matches('/'))).then_some(thread_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_id_goes_to_a_valid_channel_and_back() {
        let id = ThreadId::parse("19:acsV1_vORyCBy38NMj2wY-xxVVNa3qItOYgFzR3G6C2v2TyXY1@thread.v2")
            .unwrap();
        let channel = of(&id);
        let segments: Vec<&str> = channel.trim_start_matches('/').split('/').collect();
        assert!(segments.len() <= 5, "{channel}");
        assert!(segments.iter().all(|s| {
            (1..=50).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        }));
        assert_eq!(thread(&channel), Some(id));
    }

    #[test]
    fn channels_not_made_here_name_no_thread() {
        for channel in [
            "/threads",
            "/threads/zz",
            "/threads/313",
            "/other/3139",
            "/threads/*",
            "/threads/31393a61/",
        ] {
            assert_eq!(thread(channel), None, "{channel}");
        }
    }
}
