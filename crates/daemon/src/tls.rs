//! TLS for `tcp://` hosts, as dockerd's `--tlsverify`: the daemon shows
//! its certificate and accepts only clients whose certificate the given CA
//! signed. Whoever reaches the API controls the host as root, so a TCP
//! host without client certificates needs `--insecure-tcp`.

use anyhow::Context;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// dockerd's TLS flags (also daemon.json's `tls`, `tlsverify`, `tlscacert`,
/// `tlscert`, `tlskey`).
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// Serve TLS (without checking clients unless `verify`).
    pub tls: bool,
    /// Accept only clients with a certificate signed by `cacert`.
    pub verify: bool,
    /// The CA that signs client certificates.
    pub cacert: Option<PathBuf>,
    /// The daemon's certificate chain.
    pub cert: Option<PathBuf>,
    /// Its private key.
    pub key: Option<PathBuf>,
}

impl TlsOptions {
    /// Whether TCP hosts are served over TLS.
    pub fn enabled(&self) -> bool {
        self.tls || self.verify
    }
}

fn need<'a>(p: &'a Option<PathBuf>, flag: &str) -> anyhow::Result<&'a Path> {
    p.as_deref().with_context(|| format!("TLS needs --{flag}"))
}

/// The acceptor for TCP hosts.
pub fn acceptor(o: &TlsOptions) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cert_path = need(&o.cert, "tlscert")?;
    let key_path = need(&o.key, "tlskey")?;
    let certs = CertificateDer::pem_file_iter(cert_path)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| anyhow::anyhow!("--tlscert {}: {e}", cert_path.display()))?;
    if certs.is_empty() {
        anyhow::bail!("--tlscert {}: no certificate in it", cert_path.display());
    }
    let key =
        PrivateKeyDer::from_pem_file(key_path).map_err(|e| anyhow::anyhow!("--tlskey {}: {e}", key_path.display()))?;
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?;
    let builder = if o.verify {
        let ca_path = need(&o.cacert, "tlscacert")?;
        let mut roots = rustls::RootCertStore::empty();
        let cas = CertificateDer::pem_file_iter(ca_path)
            .and_then(|i| i.collect::<Result<Vec<_>, _>>())
            .map_err(|e| anyhow::anyhow!("--tlscacert {}: {e}", ca_path.display()))?;
        let (added, _) = roots.add_parsable_certificates(cas);
        if added == 0 {
            anyhow::bail!("--tlscacert {}: no CA certificate in it", ca_path.display());
        }
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .context("client certificate verifier")?;
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let cfg = builder.with_single_cert(certs, key).with_context(|| {
        format!("--tlscert {} and --tlskey {} do not match", cert_path.display(), key_path.display())
    })?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(cfg)))
}
