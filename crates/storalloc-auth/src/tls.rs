//! Optional TLS for every storalloc connection (docs/security.md, "TLS"):
//! the orchestrator's certificate and key, the CA clients and agents check
//! it against, and the agents' own certificates when the orchestrator
//! requires them. Files are read and parsed when loaded, so a bad file is
//! reported at start-up with its config key, not at the first connection.

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tonic::transport::{
    Certificate, Channel, ClientTlsConfig, Endpoint, Identity, ServerTlsConfig,
};

/// A TLS file named by a config key that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{key}: {}: {message}", path.display())]
pub struct TlsFileError {
    pub key: &'static str,
    pub path: PathBuf,
    pub message: String,
}

fn read(key: &'static str, path: &Path) -> Result<Vec<u8>, TlsFileError> {
    std::fs::read(path).map_err(|e| TlsFileError {
        key,
        path: path.to_path_buf(),
        message: format!("cannot read: {e}"),
    })
}

/// A PEM file holding at least one certificate.
fn read_certs(key: &'static str, path: &Path) -> Result<Vec<u8>, TlsFileError> {
    let pem = read(key, path)?;
    let bad = |message: String| TlsFileError {
        key,
        path: path.to_path_buf(),
        message,
    };
    let mut n = 0;
    for c in CertificateDer::pem_slice_iter(&pem) {
        c.map_err(|e| bad(format!("not a PEM certificate file: {e}")))?;
        n += 1;
    }
    if n == 0 {
        return Err(bad(
            "no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)".into(),
        ));
    }
    Ok(pem)
}

/// A PEM file holding a private key (PKCS#8, PKCS#1 or SEC1).
fn read_key(key: &'static str, path: &Path) -> Result<Vec<u8>, TlsFileError> {
    let pem = read(key, path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| TlsFileError {
        key,
        path: path.to_path_buf(),
        message: format!("no usable PEM private key in it: {e}"),
    })?;
    Ok(pem)
}

/// The orchestrator's side: `tls_cert_file`, `tls_key_file` and, to require
/// agents to present a certificate signed by it, `tls_client_ca_file`.
#[derive(Clone, Debug)]
pub struct ServerTls {
    cert: Vec<u8>,
    key: Vec<u8>,
    client_ca: Option<Vec<u8>>,
}

impl ServerTls {
    pub fn from_files(
        cert_file: &Path,
        key_file: &Path,
        client_ca_file: Option<&Path>,
    ) -> Result<ServerTls, TlsFileError> {
        Ok(ServerTls {
            cert: read_certs("tls_cert_file", cert_file)?,
            key: read_key("tls_key_file", key_file)?,
            client_ca: client_ca_file
                .map(|p| read_certs("tls_client_ca_file", p))
                .transpose()?,
        })
    }

    /// From PEM text already in memory (tests, embedding).
    pub fn from_pem(cert: &[u8], key: &[u8], client_ca: Option<&[u8]>) -> ServerTls {
        ServerTls {
            cert: cert.to_vec(),
            key: key.to_vec(),
            client_ca: client_ca.map(<[u8]>::to_vec),
        }
    }

    /// The client and admin port: users prove who they are with MUNGE, not
    /// certificates.
    pub fn client_port(&self) -> ServerTlsConfig {
        ServerTlsConfig::new().identity(Identity::from_pem(&self.cert, &self.key))
    }

    /// The agent port: with `tls_client_ca_file`, a connection without a
    /// certificate signed by that CA is refused during the handshake.
    pub fn agent_port(&self) -> ServerTlsConfig {
        let c = self.client_port();
        match &self.client_ca {
            Some(ca) => c.client_ca_root(Certificate::from_pem(ca)),
            None => c,
        }
    }

    pub fn requires_agent_certs(&self) -> bool {
        self.client_ca.is_some()
    }
}

/// A client's or agent's side: `tls_ca_file` (the CA that signed the
/// orchestrator's certificate) and, for agents of an orchestrator that
/// requires them, `tls_client_cert_file` and `tls_client_key_file`.
#[derive(Clone, Debug)]
pub struct ClientTls {
    ca: Vec<u8>,
    identity: Option<(Vec<u8>, Vec<u8>)>,
}

impl ClientTls {
    pub fn from_files(
        ca_file: &Path,
        client_cert_file: Option<&Path>,
        client_key_file: Option<&Path>,
    ) -> Result<ClientTls, TlsFileError> {
        let ca = read_certs("tls_ca_file", ca_file)?;
        let identity = match (client_cert_file, client_key_file) {
            (None, None) => None,
            (Some(c), Some(k)) => Some((
                read_certs("tls_client_cert_file", c)?,
                read_key("tls_client_key_file", k)?,
            )),
            (Some(c), None) => {
                return Err(TlsFileError {
                    key: "tls_client_key_file",
                    path: c.to_path_buf(),
                    message: "tls_client_cert_file is set but tls_client_key_file is not".into(),
                })
            }
            (None, Some(k)) => {
                return Err(TlsFileError {
                    key: "tls_client_cert_file",
                    path: k.to_path_buf(),
                    message: "tls_client_key_file is set but tls_client_cert_file is not".into(),
                })
            }
        };
        Ok(ClientTls { ca, identity })
    }

    /// From PEM text already in memory (tests, embedding).
    pub fn from_pem(ca: &[u8], identity: Option<(&[u8], &[u8])>) -> ClientTls {
        ClientTls {
            ca: ca.to_vec(),
            identity: identity.map(|(c, k)| (c.to_vec(), k.to_vec())),
        }
    }

    /// Only `ca` is trusted: no system roots, so a certificate from any other
    /// CA is refused.
    pub fn config(&self) -> ClientTlsConfig {
        let c = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&self.ca));
        match &self.identity {
            Some((cert, key)) => c.identity(Identity::from_pem(cert, key)),
            None => c,
        }
    }
}

/// `addr` as a URI: `https://` with TLS, `http://` without, unless it
/// already names its scheme.
pub fn uri_for(addr: &str, tls: bool) -> String {
    if addr.contains("://") {
        addr.to_string()
    } else if tls {
        format!("https://{addr}")
    } else {
        format!("http://{addr}")
    }
}

/// The largest gRPC message an agent and the orchestrator's AgentService
/// exchange, both ways: 64 MiB, a registration of about 400,000 disks
/// (51,400 fully described disks, an 11 MB system file, take 7.5 MiB).
/// tonic's default of 4 MiB refused large systems; both sides set this
/// bound, so a registration past it is refused at once, with tonic's
/// "message length too large", and the agent stops saying so.
pub const MAX_AGENT_MESSAGE_BYTES: usize = 64 << 20;

/// The channel an agent or a client opens to the orchestrator at `addr`:
/// over TLS when `tls` is given, connecting on first use, with a short
/// connect timeout so an unreachable orchestrator fails fast.
pub fn lazy_channel(
    addr: &str,
    tls: Option<&ClientTls>,
) -> Result<Channel, tonic::transport::Error> {
    let mut endpoint = Endpoint::from_shared(uri_for(addr, tls.is_some()))?;
    if let Some(t) = tls {
        endpoint = endpoint.tls_config(t.config())?;
    }
    Ok(endpoint
        .connect_timeout(Duration::from_secs(2))
        .tcp_nodelay(true)
        .connect_lazy())
}

/// A call's error with its causes: a refused certificate is otherwise just
/// "transport error".
pub fn status_with_causes(s: &tonic::Status) -> String {
    let mut m = s.message().to_string();
    let mut src = std::error::Error::source(s);
    while let Some(e) = src {
        let text = e.to_string();
        if !m.contains(&text) {
            m.push_str(&format!(": {text}"));
        }
        src = e.source();
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_files_are_named_with_their_key() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let e = ServerTls::from_files(&missing, &missing, None).unwrap_err();
        assert_eq!(e.key, "tls_cert_file");
        assert!(e.to_string().contains("missing.pem"), "{e}");
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not pem at all\n").unwrap();
        let e = ClientTls::from_files(&junk, None, None).unwrap_err();
        assert_eq!(e.key, "tls_ca_file");
        assert!(e.to_string().contains("no PEM certificate"), "{e}");
        let e = ClientTls::from_files(&missing, None, None).unwrap_err();
        assert!(e.to_string().starts_with("tls_ca_file: "), "{e}");
    }

    #[test]
    fn uri_picks_the_scheme() {
        assert_eq!(uri_for("h:1", true), "https://h:1");
        assert_eq!(uri_for("h:1", false), "http://h:1");
        assert_eq!(uri_for("http://h:1", true), "http://h:1");
    }
}
