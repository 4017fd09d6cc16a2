//! TLS on the agent listener (`INTENTGATE_TLS_CERT` / `INTENTGATE_TLS_KEY`): the certificate
//! chain and key are loaded and matched at start and by `igd check-config`, and reloaded on
//! SIGHUP. A reload swaps the server configuration for new handshakes only; connections already
//! established keep the configuration they were accepted with.

use crate::config::{ConfigError, Settings};
use arc_swap::ArcSwap;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::ParsedCertificate;
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use std::path::Path;
use std::sync::Arc;

/// The crypto provider igd uses (ring), explicitly, so no process-wide default is needed.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Read and check a PEM certificate chain (leaf first) and its private key.
pub fn load_certified_key(cert_path: &Path, key_path: &Path) -> Result<CertifiedKey, ConfigError> {
    let cert_pem = std::fs::read(cert_path).map_err(|e| {
        ConfigError::new(
            "tls_cert",
            format!("cannot read {}: {e}", cert_path.display()),
        )
    })?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            ConfigError::new(
                "tls_cert",
                format!(
                    "{} is not a PEM certificate chain: {e}",
                    cert_path.display()
                ),
            )
        })?;
    if chain.is_empty() {
        return Err(ConfigError::new(
            "tls_cert",
            format!("{} holds no PEM certificate", cert_path.display()),
        ));
    }
    for cert in &chain {
        ParsedCertificate::try_from(cert).map_err(|e| {
            ConfigError::new(
                "tls_cert",
                format!(
                    "{} holds a certificate that does not parse: {e}",
                    cert_path.display()
                ),
            )
        })?;
    }
    let key_pem = zeroize::Zeroizing::new(std::fs::read(key_path).map_err(|e| {
        ConfigError::new(
            "tls_key",
            format!("cannot read {}: {e}", key_path.display()),
        )
    })?);
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        ConfigError::new(
            "tls_key",
            format!(
                "{} is not a PEM private key (PKCS#8, PKCS#1 or SEC1): {e}",
                key_path.display()
            ),
        )
    })?;
    let signing_key = provider().key_provider.load_private_key(key).map_err(|e| {
        ConfigError::new(
            "tls_key",
            format!("{}: unsupported private key: {e}", key_path.display()),
        )
    })?;
    let certified = CertifiedKey::new(chain, signing_key);
    // Fail closed: a key whose public half cannot be derived is not accepted either.
    certified.keys_match().map_err(|e| {
        ConfigError::new(
            "tls_key",
            format!(
                "{} does not match the certificate in {} ({e})",
                key_path.display(),
                cert_path.display()
            ),
        )
    })?;
    Ok(certified)
}

/// A rustls server configuration (TLS 1.2 and 1.3, HTTP/1.1) for this certificate and key.
pub fn server_config(cert_path: &Path, key_path: &Path) -> Result<ServerConfig, ConfigError> {
    let certified = load_certified_key(cert_path, key_path)?;
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| ConfigError::new("tls_cert", format!("TLS set-up failed: {e}")))?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(FixedCert(Arc::new(certified))));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Always the one certificate loaded last.
#[derive(Debug)]
struct FixedCert(Arc<CertifiedKey>);

impl rustls::server::ResolvesServerCert for FixedCert {
    fn resolve(&self, _hello: rustls::server::ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// The agent listener's TLS state: the configuration new handshakes use, swapped on reload.
#[derive(Debug)]
pub struct AgentTls {
    cert_path: std::path::PathBuf,
    key_path: std::path::PathBuf,
    config: ArcSwap<ServerConfig>,
}

impl AgentTls {
    /// Load TLS from the settings: `None` when `INTENTGATE_TLS_CERT`/`_KEY` are unset.
    pub fn from_settings(settings: &Settings) -> Result<Option<AgentTls>, ConfigError> {
        let (Some(cert), Some(key)) = (&settings.tls_cert, &settings.tls_key) else {
            return Ok(None);
        };
        let config = server_config(cert, key)?;
        Ok(Some(AgentTls {
            cert_path: cert.clone(),
            key_path: key.clone(),
            config: ArcSwap::from_pointee(config),
        }))
    }

    /// The configuration for the next handshake.
    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(self.config.load_full())
    }

    /// Re-read the certificate and key (SIGHUP). On any problem the current pair stays in force.
    pub fn reload(&self) {
        match server_config(&self.cert_path, &self.key_path) {
            Ok(config) => {
                self.config.store(Arc::new(config));
                tracing::info!(cert = %self.cert_path.display(), "TLS certificate reloaded");
            }
            Err(e) => tracing::error!(
                error = %e,
                "TLS certificate reload failed; keeping the current certificate"
            ),
        }
    }
}
