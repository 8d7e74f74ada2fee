//! orderdeck's own retry counter on AMQP messages.

use lapin::BasicProperties;
use lapin::types::AMQPValue;

/// orderdeck's own retry counter: RabbitMQ 4 ignores a client-set
/// `x-death`, so retries are counted in a header of our own.
pub const RETRY_HEADER: &str = "x-orderdeck-retries";

/// The retry count a message carries (0 when it has none).
pub fn retries_of(props: &BasicProperties) -> u32 {
    let Some(headers) = props.headers() else {
        return 0;
    };
    match headers.inner().get(RETRY_HEADER) {
        Some(AMQPValue::LongUInt(n)) => *n,
        Some(AMQPValue::LongInt(n)) => u32::try_from(*n).unwrap_or(0),
        Some(AMQPValue::LongLongInt(n)) => u32::try_from(*n).unwrap_or(0),
        Some(AMQPValue::ShortUInt(n)) => u32::from(*n),
        Some(AMQPValue::ShortInt(n)) => u32::try_from(*n).unwrap_or(0),
        _ => 0,
    }
}
