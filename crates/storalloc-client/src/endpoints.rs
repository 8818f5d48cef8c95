//! `endpoints.json`, which the orchestrator writes into its state dir once
//! it has bound its ports (port 0 picks free ones):
//! `{"client": "127.0.0.1:NNNN", "server": "127.0.0.1:MMMM"}`, plus
//! `"tls": true` when both ports are served over TLS.

use crate::ClientError;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Endpoints {
    /// ClientService and AdminService.
    pub client: String,
    /// AgentService.
    pub server: String,
    /// Both ports speak TLS: connect with `https://` and the config's
    /// `tls_ca_file`.
    #[serde(default)]
    pub tls: bool,
}

/// `path` is either the file or the state dir that holds `endpoints.json`.
fn file_of(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("endpoints.json")
    } else {
        path.to_path_buf()
    }
}

pub fn read_endpoints(path: &Path) -> Result<Endpoints, ClientError> {
    let file = file_of(path);
    let err = |message: String| ClientError::Endpoints {
        path: file.display().to_string(),
        message,
    };
    let bytes = std::fs::read(&file).map_err(|e| err(e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        err(format!(
            "expected {{\"client\": \"HOST:PORT\", \"server\": \"HOST:PORT\"}}: {e}"
        ))
    })
}

/// Polls until the file exists and parses, or `timeout` passes.
pub async fn wait_for_endpoints(path: &Path, timeout: Duration) -> Result<Endpoints, ClientError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match read_endpoints(path) {
            Ok(e) => return Ok(e),
            Err(e) if tokio::time::Instant::now() >= deadline => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_from_the_dir_or_the_file_and_names_the_file_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("endpoints.json");
        let err = read_endpoints(dir.path()).unwrap_err().to_string();
        assert!(err.contains("endpoints.json"), "{err}");
        std::fs::write(&f, r#"{"client": "127.0.0.1:1", "server": "127.0.0.1:2"}"#).unwrap();
        let want = Endpoints {
            client: "127.0.0.1:1".into(),
            server: "127.0.0.1:2".into(),
            tls: false,
        };
        assert_eq!(read_endpoints(dir.path()).unwrap(), want);
        assert_eq!(read_endpoints(&f).unwrap(), want);
        std::fs::write(&f, "{}").unwrap();
        assert!(read_endpoints(&f)
            .unwrap_err()
            .to_string()
            .contains("client"));
    }
}
