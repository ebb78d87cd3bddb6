//! TLS to Connect end to end: connect-sim's router behind a rustls listener with
//! certificates from a throwaway CA. Covers `--tls-ca-file`, `--tls-insecure`, and
//! mutual TLS with `--tls-client-cert`/`--tls-client-key`.

mod common;

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use connect_sentinel::connect::{ClientOptions, ConnectClient, TlsOptions};
use connect_sim::{Sim, SimConfig};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa, KeyPair,
};
use rustls::{
    RootCertStore, ServerConfig,
    pki_types::{CertificateDer, PrivateKeyDer},
    server::WebPkiClientVerifier,
};

/// A CA and the files a client needs, in a private temp directory.
struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
    dir: PathBuf,
}

impl Pki {
    fn new(test: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let dir = std::env::temp_dir().join(format!(
            "connect-sentinel-tls-{}-{test}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
        Self { ca, dir }
    }

    /// A leaf certificate for `usage`, written as `<name>.pem` / `<name>.key`.
    fn leaf(
        &self,
        name: &str,
        usage: ExtendedKeyUsagePurpose,
    ) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
        params.extended_key_usages = vec![usage];
        let cert = params.signed_by(&key, &self.ca).unwrap();
        std::fs::write(self.dir.join(format!("{name}.pem")), cert.pem()).unwrap();
        std::fs::write(self.dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
        (
            cert.der().clone(),
            PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
        )
    }

    fn path(&self, file: &str) -> Option<PathBuf> {
        Some(self.dir.join(file))
    }
}

/// connect-sim over HTTPS on 127.0.0.1:0; with `client_ca`, client certificates are required.
async fn tls_sim(pki: &Pki, require_client_cert: bool) -> SocketAddr {
    let _ = common::http();
    let (cert, key) = pki.leaf("server", ExtendedKeyUsagePurpose::ServerAuth);
    let builder = ServerConfig::builder();
    let builder = match require_client_cert {
        true => {
            let mut roots = RootCertStore::empty();
            roots.add(pki.ca.der().clone()).unwrap();
            builder.with_client_cert_verifier(
                WebPkiClientVerifier::builder(Arc::new(roots))
                    .build()
                    .unwrap(),
            )
        }
        false => builder.with_no_client_auth(),
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(
        builder.with_single_cert(vec![cert], key).unwrap(),
    ));
    let app = connect_sim::router(Sim::new(SimConfig::synchronous()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper_util::service::TowerToHyperService::new(app);
                let io = hyper_util::rt::TokioIo::new(tls);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    addr
}

fn client(addr: SocketAddr, tls: TlsOptions) -> ConnectClient {
    ConnectClient::new(ClientOptions {
        tls,
        ..ClientOptions::new(format!("https://{addr}"))
    })
    .unwrap()
}

/// `--tls-ca-file` trusts the CA; without it the certificate is refused; `--tls-insecure`
/// skips verification.
#[tokio::test]
async fn ca_file_and_insecure() {
    let pki = Pki::new("ca");
    let addr = tls_sim(&pki, false).await;
    let trusted = client(
        addr,
        TlsOptions {
            ca_file: pki.path("ca.pem"),
            ..TlsOptions::default()
        },
    );
    assert_eq!(
        trusted.connector_names().await.unwrap(),
        Vec::<String>::new()
    );
    let untrusted = client(addr, TlsOptions::default())
        .connector_names()
        .await
        .unwrap_err();
    assert_eq!(untrusted.label(), "unreachable", "{untrusted}");
    assert!(
        untrusted.to_string().to_lowercase().contains("certificate")
            || untrusted.to_string().contains("Issuer"),
        "{untrusted}"
    );
    let insecure = client(
        addr,
        TlsOptions {
            insecure: true,
            ..TlsOptions::default()
        },
    );
    assert!(insecure.connector_names().await.is_ok());
}

/// Mutual TLS: without a client certificate the server refuses; with one it answers.
#[tokio::test]
async fn mutual_tls_with_a_client_certificate() {
    let pki = Pki::new("mtls");
    let addr = tls_sim(&pki, true).await;
    pki.leaf("client", ExtendedKeyUsagePurpose::ClientAuth);
    let ca_only = TlsOptions {
        ca_file: pki.path("ca.pem"),
        ..TlsOptions::default()
    };
    assert!(
        client(addr, ca_only.clone())
            .connector_names()
            .await
            .is_err()
    );
    let with_cert = TlsOptions {
        client_cert: pki.path("client.pem"),
        client_key: pki.path("client.key"),
        ..ca_only
    };
    assert_eq!(
        client(addr, with_cert).connector_names().await.unwrap(),
        Vec::<String>::new()
    );
}
