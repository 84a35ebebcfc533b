//! The chat over TLS (`--tls`): a certificate and key from PEM files (`--cert`, `--key`), or a
//! self-signed certificate for 127.0.0.1 and localhost made at start-up, whose PEM goes to
//! `--cert-out FILE` when asked (so a client can trust exactly it).

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;
use tether_axum::tokio_rustls::rustls::{self, ServerConfig};

/// Where the certificate comes from.
pub(crate) struct TlsArgs {
    /// `--cert FILE` and `--key FILE`, both PEM.
    pub(crate) files: Option<(String, String)>,
    /// `--cert-out FILE`: where the made certificate's PEM is written.
    pub(crate) cert_out: Option<String>,
}

/// The server's TLS settings (HTTP/1.1 over ALPN), or why they could not be made.
pub(crate) fn config(args: &TlsArgs) -> Result<Arc<ServerConfig>, String> {
    let (certs, key) = match &args.files {
        Some((cert, key)) => {
            let certs = CertificateDer::pem_file_iter(cert)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("--cert {cert}: {e}"))?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("--key {key}: {e}"))?;
            (certs, key)
        }
        None => {
            let made = rcgen::generate_simple_self_signed(vec![
                "127.0.0.1".to_owned(),
                "localhost".to_owned(),
            ])
            .map_err(|e| format!("could not make a certificate: {e}"))?;
            if let Some(path) = &args.cert_out {
                std::fs::write(path, made.cert.pem())
                    .map_err(|e| format!("--cert-out {path}: {e}"))?;
            }
            let key = PrivateKeyDer::try_from(made.signing_key.serialize_der())
                .map_err(|e| format!("the made key: {e}"))?;
            (vec![made.cert.der().clone()], key)
        }
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS versions: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("the certificate and key: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
