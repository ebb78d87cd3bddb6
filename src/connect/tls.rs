//! TLS to Connect: a CA bundle, a client certificate and key (mTLS), or no
//! verification at all (insecure, for testing only). rustls with ring only.

use std::path::{Path, PathBuf};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};

use super::ConnectError;

/// TLS settings for an `https://` Connect URL.
#[derive(Clone, Debug, Default)]
pub struct TlsOptions {
    /// PEM file of CA certificates to trust (in addition to none: only these are trusted).
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate (chain) for mutual TLS.
    pub client_cert: Option<PathBuf>,
    /// PEM private key of the client certificate.
    pub client_key: Option<PathBuf>,
    /// Skip certificate verification.
    pub insecure: bool,
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, ConnectError> {
    std::fs::read(path)
        .map_err(|e| ConnectError::Settings(format!("cannot read {what} {}: {e}", path.display())))
}

/// An error and its sources, most specific last (reqwest's own text is only
/// "builder error").
pub fn causes(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut next = e.source();
    while let Some(cause) = next {
        parts.push(cause.to_string());
        next = cause.source();
    }
    parts.join(": ")
}

/// Each certificate of a CA file must parse: which one does not, and why.
fn check_ca(path: &Path, pem: &[u8]) -> Result<(), ConnectError> {
    let invalid =
        |why: String| ConnectError::Settings(format!("invalid CA file {}: {why}", path.display()));
    let mut roots = rustls::RootCertStore::empty();
    for (n, cert) in CertificateDer::pem_slice_iter(pem).enumerate() {
        let cert =
            cert.map_err(|e| invalid(format!("PEM block {} is not readable: {e}", n + 1)))?;
        roots
            .add(cert)
            .map_err(|e| invalid(format!("certificate {} cannot be parsed: {e}", n + 1)))?;
    }
    Ok(())
}

/// The client certificate file must hold a certificate, the key file a private key.
fn check_identity(cert: (&Path, &[u8]), key: (&Path, &[u8])) -> Result<(), ConnectError> {
    let certs = CertificateDer::pem_slice_iter(cert.1).collect::<Result<Vec<_>, _>>();
    match certs {
        Ok(certs) if !certs.is_empty() => {}
        Ok(_) => {
            return Err(ConnectError::Settings(format!(
                "client certificate {} holds no PEM certificate",
                cert.0.display()
            )));
        }
        Err(e) => {
            return Err(ConnectError::Settings(format!(
                "client certificate {} is not readable PEM: {e}",
                cert.0.display()
            )));
        }
    }
    PrivateKeyDer::from_pem_slice(key.1).map(drop).map_err(|e| {
        ConnectError::Settings(format!(
            "client key {} holds no usable PEM private key (PKCS#8, PKCS#1 or SEC1): {e}",
            key.0.display()
        ))
    })
}

/// Applies the TLS options to a client builder. A plain-HTTP Connect URL
/// (`https == false`) trusts nothing: the system trust store is never loaded, which
/// keeps the sidecar's memory and start-up free of certificate parsing.
pub fn configure(
    mut builder: reqwest::ClientBuilder,
    tls: &TlsOptions,
    https: bool,
) -> Result<reqwest::ClientBuilder, ConnectError> {
    builder = builder.tls_backend_rustls();
    if !https && tls.ca_file.is_none() {
        builder = builder.tls_certs_only([]);
    }
    if let Some(path) = &tls.ca_file {
        let pem = read(path, "CA file")?;
        check_ca(path, &pem)?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
            ConnectError::Settings(format!(
                "invalid CA file {}: {}",
                path.display(),
                causes(&e)
            ))
        })?;
        if certs.is_empty() {
            return Err(ConnectError::Settings(format!(
                "CA file {} holds no certificate",
                path.display()
            )));
        }
        builder = builder.tls_certs_only(certs);
    }
    match (&tls.client_cert, &tls.client_key) {
        (Some(cert), Some(key)) => {
            let mut pem = read(cert, "client certificate")?;
            let key_pem = read(key, "client key")?;
            check_identity((cert, &pem), (key, &key_pem))?;
            pem.push(b'\n');
            pem.extend(key_pem);
            let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
                ConnectError::Settings(format!(
                    "invalid client certificate {} or key {}: {}",
                    cert.display(),
                    key.display(),
                    causes(&e)
                ))
            })?;
            builder = builder.identity(identity);
        }
        (None, None) => {}
        _ => {
            return Err(ConnectError::Settings(
                "--tls-client-cert and --tls-client-key go together".into(),
            ));
        }
    }
    Ok(builder.tls_danger_accept_invalid_certs(tls.insecure))
}
