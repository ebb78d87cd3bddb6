//! The two ends of the notification queue: [`Notifier`], owned by the poll loop, never
//! waits (`try_send`; a full queue drops and counts); [`Delivery`], on the server's
//! runtime, fans each event out to one bounded queue per URL and runs the URLs'
//! workers until shutdown, counting what is still queued then as dropped.

use std::{future::Future, sync::Arc, time::SystemTime};

use tokio::sync::mpsc;

use super::{
    Counters, NotifySettings, Outcome,
    deliver::{Http, Target, Transport},
    event::{self, Event},
};
use crate::{health::metrics::HealthMetrics, remediate::Entry};

/// Events between the poll loop and delivery.
const QUEUE: usize = 256;

/// Events waiting for one URL (behind a slow receiver's retries).
const PER_URL: usize = 64;

/// The poll loop's end: remembers the last view and queues what changed.
#[derive(Debug)]
pub struct Notifier {
    tx: mpsc::Sender<Event>,
    last: Vec<Entry>,
    counters: Counters,
}

impl Notifier {
    /// Queues the events between the previous view and `view` (see [`event::events`]).
    pub fn observe(&mut self, view: &[Entry]) {
        let events = event::events(&self.last, view, SystemTime::now());
        self.last = view.to_vec();
        events.into_iter().for_each(|e| self.queue(e));
    }

    /// Queues one event without waiting; drops and counts it when the queue is full.
    pub fn queue(&self, event: Event) {
        let (connector, kind) = (event.connector.clone(), event.kind.as_str());
        match self.tx.try_send(event) {
            Ok(()) => tracing::info!(connector, kind, "notifying"),
            Err(_) => {
                self.counters.count(Outcome::Dropped);
                tracing::warn!(connector, kind, "notification dropped: the queue is full");
            }
        }
    }
}

/// The sending end: one worker per URL, on the runtime that runs [`Delivery::run`].
pub struct Delivery<T = Http> {
    rx: mpsc::Receiver<Event>,
    targets: Vec<Target<T>>,
    counters: Counters,
}

/// A notifier and its delivery over the settings' HTTP client.
pub fn channel(settings: NotifySettings, counters: Counters) -> (Notifier, Delivery) {
    let transport = Arc::new(settings.transport.clone());
    with_transport(settings, counters, transport)
}

/// Webhook notifications for a poll loop whose metrics are `metrics`: with `settings`,
/// its counters registered there, a notifier for the loop and the delivery to run
/// beside it; without, the metrics unchanged and neither.
pub fn attach(
    settings: Option<NotifySettings>,
    metrics: HealthMetrics,
) -> (Arc<HealthMetrics>, Option<Notifier>, Option<Delivery>) {
    let Some(settings) = settings else {
        return (Arc::new(metrics), None, None);
    };
    let counters = Counters::default();
    let metrics = Arc::new(metrics.with_notifications(Some(&counters)));
    let (notifier, delivery) = channel(settings, counters);
    (metrics, Some(notifier), Some(delivery))
}

/// A notifier and its delivery over `transport`.
pub fn with_transport<T: Transport>(
    settings: NotifySettings,
    counters: Counters,
    transport: Arc<T>,
) -> (Notifier, Delivery<T>) {
    let (tx, rx) = mpsc::channel(QUEUE);
    let targets = settings
        .urls
        .iter()
        .map(|url| Target {
            url: url.clone(),
            transport: transport.clone(),
            format: settings.format,
            identity: settings.identity.clone(),
            retry: settings.retry,
            per_minute: settings.per_minute,
            counters: counters.clone(),
        })
        .collect();
    let last = Vec::new();
    let notifier = Notifier {
        tx,
        last,
        counters: counters.clone(),
    };
    (
        notifier,
        Delivery {
            rx,
            targets,
            counters,
        },
    )
}

impl<T: Transport> Delivery<T> {
    /// Delivers until `shutdown` resolves; what is still queued then is dropped and
    /// counted, a call in flight is cancelled.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let Self {
            mut rx,
            targets,
            counters,
        } = self;
        let (senders, queues): (Vec<_>, Vec<_>) =
            targets.iter().map(|_| mpsc::channel(PER_URL)).unzip();
        let workers = targets.into_iter().zip(queues).map(|(t, q)| t.run(q));
        let dispatch = async {
            while let Some(event) = rx.recv().await {
                fan_out(&senders, event, &counters);
            }
            std::future::pending::<()>().await;
        };
        let mut work = Box::pin(futures::future::join(
            dispatch,
            futures::future::join_all(workers),
        ));
        tokio::select! {
            () = shutdown => {}
            _ = &mut work => {}
        }
        let queued: usize = senders
            .iter()
            .map(|tx| tx.max_capacity() - tx.capacity())
            .sum();
        drop(work);
        counters.add(Outcome::Dropped, (queued + rx.len()) as u64);
    }
}

/// One copy of `event` per URL; a full queue drops (and counts) its copy.
fn fan_out(senders: &[mpsc::Sender<Event>], event: Event, counters: &Counters) {
    for tx in senders {
        if tx.try_send(event.clone()).is_err() {
            counters.count(Outcome::Dropped);
            tracing::warn!(
                connector = event.connector,
                "notification dropped: a webhook's queue is full"
            );
        }
    }
}
