//! Publishing with publisher confirms, and reading queue depths, on the
//! simulator's RabbitMQ connection.

use super::message::Msg;
use super::stats::Stats;
use crate::topology::Topology;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Confirmation, Connection};
use std::sync::Arc;

use crate::broker::RETRY_HEADER;

/// A confirm-mode channel shared by the order front and the consumers
/// (lapin channels are safe to share; each publish gets its own confirm).
#[derive(Clone)]
pub struct Publisher {
    channel: Channel,
    exchange: ShortString,
    stats: Arc<Stats>,
}

impl Publisher {
    pub async fn open(
        conn: &Connection,
        topology: &Topology,
        stats: Arc<Stats>,
    ) -> Result<Publisher, lapin::Error> {
        let channel = conn.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        Ok(Publisher {
            channel,
            exchange: ShortString::from(topology.exchange()),
            stats,
        })
    }

    /// Publishes `msg` to its work queue and waits for the broker's confirm.
    /// Mandatory: a message no queue takes comes back and counts as failed.
    pub async fn publish(&self, msg: &Msg, retries: u32) -> Result<(), String> {
        let mut headers = FieldTable::default();
        headers.insert(RETRY_HEADER.into(), AMQPValue::LongUInt(retries));
        let props = BasicProperties::default()
            .with_content_type("application/json".into())
            .with_delivery_mode(2)
            .with_app_id("orderdeck-simulate".into())
            .with_headers(headers);
        Stats::bump(&self.stats.published);
        let result = async {
            let confirm = self
                .channel
                .basic_publish(
                    self.exchange.clone(),
                    msg.step.queue().into(),
                    BasicPublishOptions {
                        mandatory: true,
                        ..BasicPublishOptions::default()
                    },
                    &msg.to_json(),
                    props,
                )
                .await
                .map_err(|e| e.to_string())?;
            match confirm.await.map_err(|e| e.to_string())? {
                Confirmation::Ack(None) => Ok(()),
                Confirmation::Ack(Some(_)) => {
                    Err(format!("no queue is bound for {}", msg.step.queue()))
                }
                Confirmation::Nack(_) => Err("the broker nacked the message".into()),
                Confirmation::NotRequested => Err("publisher confirms are off".into()),
            }
        }
        .await;
        match &result {
            Ok(()) => Stats::bump(&self.stats.confirmed),
            Err(e) => {
                Stats::bump(&self.stats.publish_failed);
                self.stats.note_error(&format!("publish: {e}"));
            }
        }
        result
    }

    pub async fn close(&self) {
        let _ = self.channel.close(200, "simulate finished".into()).await;
    }
}

/// Reads ready-message counts with passive declares. A passive declare of a
/// missing queue closes the channel (404), so a failed probe opens a new
/// channel next time.
pub struct QueueProbe {
    conn: Arc<Connection>,
    channel: Option<Channel>,
}

impl QueueProbe {
    pub fn new(conn: &Arc<Connection>) -> QueueProbe {
        QueueProbe {
            conn: conn.clone(),
            channel: None,
        }
    }

    pub async fn ready(&mut self, queue: &str) -> Option<u32> {
        if self
            .channel
            .as_ref()
            .is_none_or(|c| !c.status().connected())
        {
            self.channel = self.conn.create_channel().await.ok();
        }
        let channel = self.channel.as_ref()?;
        match channel
            .queue_declare(
                ShortString::from(queue.to_string()),
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
        {
            Ok(q) => Some(q.message_count()),
            Err(_) => {
                self.channel = None;
                None
            }
        }
    }

    pub async fn close(&mut self) {
        if let Some(c) = self.channel.take() {
            let _ = c.close(200, "simulate finished".into()).await;
        }
    }
}
