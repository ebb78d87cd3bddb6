//! The real API server of a run: `scripts/real-kube start DIR --owner-pid <this test>`
//! (which builds kube-apiserver and etcd on first use), admin and ServiceAccount
//! clients from its kubeconfig, namespaces for scenarios, and `restart-apiserver`.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Command,
    sync::atomic::{AtomicU32, Ordering},
    time::Instant,
};

use k8s_openapi::api::core::v1::Namespace;
use kube::{
    Api, Client, Config,
    api::PostParams,
    config::{KubeConfigOptions, Kubeconfig},
};

pub struct ApiServer {
    dir: tempfile::TempDir,
    kubeconfig: String,
    pub addr: SocketAddr,
    namespaces: AtomicU32,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/real-kube")
}

/// Runs `scripts/real-kube ARGS`; its stdout, or its stderr as the error.
fn real_kube(args: &[&str]) -> Result<String, String> {
    let out = Command::new("bash")
        .arg(script())
        .args(args)
        .output()
        .map_err(|e| format!("cannot run scripts/real-kube: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!(
            "scripts/real-kube {} failed:\n{stderr}",
            args.join(" ")
        ));
    }
    if !stderr.trim().is_empty() {
        eprint!("{stderr}");
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

impl ApiServer {
    /// Builds (first time) and starts etcd and kube-apiserver.
    pub fn start() -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix("real-kube-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let path = dir.path().to_str().unwrap().to_string();
        let started = Instant::now();
        let owner = std::process::id().to_string();
        let printed = real_kube(&["start", &path, "--owner-pid", &owner])?;
        let kubeconfig = std::fs::read_to_string(printed.trim())
            .map_err(|e| format!("no kubeconfig at {}: {e}", printed.trim()))?;
        let server = Kubeconfig::from_yaml(&kubeconfig)
            .map_err(|e| e.to_string())?
            .clusters[0]
            .cluster
            .as_ref()
            .and_then(|c| c.server.clone())
            .unwrap();
        let addr = server.trim_start_matches("https://").parse().unwrap();
        eprintln!(
            "kube tier: API server https://{addr} ready in {:.1}s (logs in {path}/logs)",
            started.elapsed().as_secs_f64()
        );
        Ok(Self {
            dir,
            kubeconfig,
            addr,
            namespaces: AtomicU32::new(0),
        })
    }

    /// A client as the admin (group system:masters).
    pub async fn admin(&self) -> Client {
        self.client_with(&self.kubeconfig, None).await
    }

    /// A client that authenticates with `token` (e.g. a ServiceAccount's).
    pub async fn client_as(&self, token: &str) -> Client {
        let mut config = Kubeconfig::from_yaml(&self.kubeconfig).unwrap();
        config.auth_infos[0].auth_info.as_mut().unwrap().token = Some(token.to_string().into());
        self.client_from(config, None).await
    }

    /// An admin client that reaches the API server through `addr` (a proxy).
    pub async fn admin_via(&self, addr: SocketAddr) -> Client {
        self.client_with(&self.kubeconfig, Some(addr)).await
    }

    async fn client_with(&self, text: &str, via: Option<SocketAddr>) -> Client {
        self.client_from(Kubeconfig::from_yaml(text).unwrap(), via)
            .await
    }

    async fn client_from(&self, kubeconfig: Kubeconfig, via: Option<SocketAddr>) -> Client {
        let mut config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .unwrap();
        if let Some(addr) = via {
            config.cluster_url = format!("https://{addr}").parse().unwrap();
        }
        Client::try_from(config).unwrap()
    }

    /// Creates a fresh namespace `PREFIX-N` (never deleted: without a controller manager
    /// a namespace never finishes terminating; the server is thrown away after the run).
    pub async fn namespace(&self, prefix: &str) -> String {
        let n = self.namespaces.fetch_add(1, Ordering::Relaxed);
        let name = format!("{prefix}-{n}");
        let namespace: Namespace =
            serde_json::from_value(serde_json::json!({"metadata": {"name": name}})).unwrap();
        Api::<Namespace>::all(self.admin().await)
            .create(&PostParams::default(), &namespace)
            .await
            .unwrap();
        name
    }

    /// The admin kubeconfig's path (for kubectl).
    pub fn kubeconfig_path(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    /// Stops kube-apiserver and starts it again on the same port; with `compact`, etcd
    /// is compacted meanwhile so every resourceVersion clients hold is gone.
    pub async fn restart_apiserver(&self, compact: bool) {
        let dir = self.dir.path().to_str().unwrap().to_string();
        let mut args = vec!["restart-apiserver".to_string(), dir];
        if compact {
            args.push("--compact".into());
        }
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            real_kube(&args)
        })
        .await
        .unwrap()
        .unwrap();
    }

    /// The last lines of etcd's and kube-apiserver's logs.
    pub fn logs_tail(&self) -> String {
        real_kube(&["logs", self.dir.path().to_str().unwrap()]).unwrap_or_else(|e| e)
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        if let Err(e) = real_kube(&["stop", self.dir.path().to_str().unwrap()]) {
            eprintln!("{e}");
        }
    }
}
