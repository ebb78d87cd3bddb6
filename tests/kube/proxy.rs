//! A TCP proxy on 127.0.0.1:0 in front of the API server that a scenario can cut: every
//! open connection is dropped and new ones are closed at once, as for a replica that
//! lost the network (it cannot renew its Lease, nor release it).

use std::net::SocketAddr;

use tokio::{net::TcpListener, sync::watch};

pub struct Proxy {
    pub addr: SocketAddr,
    cut: watch::Sender<bool>,
}

impl Proxy {
    /// Forwards 127.0.0.1:<free port> to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let cut = watch::Sender::new(false);
        let cut_rx = cut.subscribe();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut cut = cut_rx.clone();
                if *cut.borrow() {
                    continue; // dropped: closed at once
                }
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.wait_for(|c| *c) => {}
                    }
                });
            }
        });
        Self { addr, cut }
    }

    /// Drops every connection and refuses new ones from now on.
    pub fn cut(&self) {
        self.cut.send_replace(true);
    }
}
