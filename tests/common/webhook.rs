//! A webhook receiver on 127.0.0.1:0 (axum): every body it gets comes out of a
//! channel; it answers with scripted statuses, or never.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
};

use axum::{Router, extract::State, http::StatusCode, routing::post};
use serde_json::Value;
use tokio::sync::mpsc;

/// The token in the webhook URL's path, as Slack's are.
pub const URL_TOKEN: &str = "CANARY-url-token";

/// How the receiver answers: statuses in order (200 once they run out), or never.
#[derive(Clone)]
pub enum Answer {
    Script(Arc<Mutex<VecDeque<u16>>>),
    Hang,
}

/// A webhook receiver: every body it gets comes out of `bodies`.
pub struct Receiver {
    pub url: String,
    pub bodies: mpsc::UnboundedReceiver<Value>,
}

async fn receive(
    State((answer, tx)): State<(Answer, mpsc::UnboundedSender<Value>)>,
    body: String,
) -> StatusCode {
    let _ = tx.send(serde_json::from_str(&body).unwrap_or(Value::String(body)));
    match answer {
        Answer::Hang => std::future::pending().await,
        Answer::Script(statuses) => {
            let next = statuses.lock().unwrap().pop_front().unwrap_or(200);
            StatusCode::from_u16(next).unwrap()
        }
    }
}

pub async fn receiver(answer: Answer) -> Receiver {
    let (tx, bodies) = mpsc::unbounded_channel();
    let app = Router::new()
        .route("/hook/{token}", post(receive))
        .with_state((answer, tx));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook/{URL_TOKEN}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Receiver { url, bodies }
}

pub fn answering(statuses: &[u16]) -> Answer {
    Answer::Script(Arc::new(Mutex::new(statuses.iter().copied().collect())))
}

impl Receiver {
    /// The next body, bounded by PATIENCE.
    pub async fn next(&mut self, what: &str) -> Value {
        match tokio::time::timeout(super::PATIENCE, self.bodies.recv()).await {
            Ok(Some(body)) => body,
            _ => panic!("no {what} within {:?}", super::PATIENCE),
        }
    }
}
