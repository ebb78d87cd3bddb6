//! TLS to Connect: a CA bundle, a client certificate and key (mTLS), or no
//! verification at all (insecure, for testing only). rustls with ring only.

use std::path::{Path, PathBuf};

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
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
            ConnectError::Settings(format!("invalid CA file {}: {e}", path.display()))
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
            pem.push(b'\n');
            pem.extend(read(key, "client key")?);
            let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
                ConnectError::Settings(format!(
                    "invalid client certificate {} or key {}: {e}",
                    cert.display(),
                    key.display()
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
