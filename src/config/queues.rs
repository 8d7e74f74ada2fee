//! Queue names, checked where they enter (the config, `requeue`): AMQP
//! names are short strings of at most 255 bytes, and every watched queue's
//! dead letters live in `<queue>.dlq`, so a name must leave room for that.
//! Here rather than in `topology` so that the config, which `topology`
//! imports, need not import it back.

/// The suffix of a work queue's dead-letter queue.
pub const DLQ_SUFFIX: &str = ".dlq";

/// AMQP names are short strings: at most 255 bytes.
pub const MAX_AMQP_NAME: usize = 255;

/// Longest watched or requeued queue name: its `.dlq` must fit too.
pub const MAX_QUEUE_NAME: usize = MAX_AMQP_NAME - DLQ_SUFFIX.len();

/// Checks a work queue name where it enters (config, `requeue`), so that
/// neither it nor its `<queue>.dlq` can reach the AMQP library over its
/// 255-byte limit, where lapin panics while encoding the frame. `Err` is the
/// reason, for the caller to put after its own "where".
pub fn check_queue_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("is empty".into());
    }
    if name.chars().any(char::is_control) {
        return Err("holds control characters".into());
    }
    if name.len() > MAX_QUEUE_NAME {
        return Err(format!(
            "is {} bytes; AMQP names are at most {MAX_AMQP_NAME} bytes including the \"{DLQ_SUFFIX}\" suffix of its dead-letter queue, so at most {MAX_QUEUE_NAME}",
            name.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_names_leave_room_for_the_dlq_suffix() {
        assert_eq!(check_queue_name(&"q".repeat(251)), Ok(()));
        assert_eq!(check_queue_name("payment.callback"), Ok(()));
        for n in [252, 255, 256] {
            let e = check_queue_name(&"q".repeat(n)).unwrap_err();
            assert!(e.starts_with(&format!("is {n} bytes;")), "{e}");
            assert!(e.ends_with("so at most 251"), "{e}");
        }
        // Bytes, not characters: 84 three-byte characters are 252 bytes.
        assert!(check_queue_name(&"队".repeat(84)).is_err());
        assert_eq!(check_queue_name(" "), Err("is empty".to_string()));
        assert_eq!(
            check_queue_name("a\u{1b}b"),
            Err("holds control characters".to_string())
        );
    }
}
