//! TLS for connections, with libpq's `sslmode` meanings:
//!
//! - `disable`: no TLS; `prefer` (the default): TLS when the server offers it; `require`:
//!   TLS or no connection. Neither checks the server's certificate (as in libpq).
//! - `verify-ca`: TLS, and the certificate must chain to a trusted root;
//!   `verify-full`: also for the host name connected to.
//!
//! Trusted roots are the Mozilla roots (webpki-roots) plus the PEM certificates in
//! `sslrootcert` (a connection parameter) or `PGSSLROOTCERT`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::{Error, Result};

/// How much of the server's certificate is checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Verify {
    /// Encrypt, check nothing (`disable`, `prefer`, `require`).
    #[default]
    Nothing,
    /// The chain to a trusted root (`verify-ca`).
    Chain,
    /// The chain and the host name (`verify-full`).
    Full,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsOptions {
    pub verify: Verify,
    pub root_cert: Option<PathBuf>,
}

/// Takes out of a connection string what tokio-postgres does not read itself:
/// `sslmode=verify-ca|verify-full` (passed on as `require`) and `sslrootcert`.
pub fn extract(input: &str) -> (String, TlsOptions) {
    let mut options = TlsOptions::default();
    let mut take = |key: &str, value: &str| -> Option<String> {
        match (key, value) {
            ("sslmode", "verify-full") => {
                options.verify = Verify::Full;
                Some("require".to_owned())
            }
            ("sslmode", "verify-ca") => {
                options.verify = Verify::Chain;
                Some("require".to_owned())
            }
            ("sslrootcert", path) => {
                options.root_cert = Some(PathBuf::from(path));
                None
            }
            (_, value) => Some(value.to_owned()),
        }
    };
    let rewritten = if input.starts_with("postgres://") || input.starts_with("postgresql://") {
        match input.split_once('?') {
            Some((base, query)) => {
                let params: Vec<String> = query
                    .split('&')
                    .filter_map(|pair| {
                        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                        take(key, value).map(|v| format!("{key}={v}"))
                    })
                    .collect();
                if params.is_empty() {
                    base.to_owned()
                } else {
                    format!("{base}?{}", params.join("&"))
                }
            }
            None => input.to_owned(),
        }
    } else {
        input
            .split_whitespace()
            .filter_map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                take(key.trim(), value.trim()).map(|v| format!("{key}={v}"))
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    if options.root_cert.is_none() {
        options.root_cert = std::env::var_os("PGSSLROOTCERT").map(PathBuf::from);
    }
    (rewritten, options)
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots(extra: Option<&Path>) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = extra {
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| Error::Config(format!("sslrootcert {}: {e}", path.display())))?;
        for cert in certs {
            let cert =
                cert.map_err(|e| Error::Config(format!("sslrootcert {}: {e}", path.display())))?;
            roots
                .add(cert)
                .map_err(|e| Error::Config(format!("sslrootcert {}: {e}", path.display())))?;
        }
    }
    Ok(roots)
}

/// The TLS connector for these options.
pub fn connector(options: &TlsOptions) -> Result<MakeRustlsConnect> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("TLS: {e}")))?;
    let config = match options.verify {
        Verify::Full => builder
            .with_root_certificates(roots(options.root_cert.as_deref())?)
            .with_no_client_auth(),
        Verify::Chain => {
            let inner = WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots(options.root_cert.as_deref())?),
                Arc::clone(&provider),
            )
            .build()
            .map_err(|e| Error::Config(format!("TLS: {e}")))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(ChainOnly(inner)))
                .with_no_client_auth()
        }
        Verify::Nothing => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(EncryptOnly(provider)))
            .with_no_client_auth(),
    };
    Ok(MakeRustlsConnect::new(config))
}

/// `require`: the handshake's signatures are checked, the certificate is not (libpq's
/// meaning of `require`).
#[derive(Debug)]
struct EncryptOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the full check, except that the certificate need not name the host.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_out_what_tokio_postgres_cannot_read() {
        let (url, o) = extract(
            "postgres://u:p@db/app?sslmode=verify-full&sslrootcert=/ca.pem&application_name=x",
        );
        assert_eq!(
            url,
            "postgres://u:p@db/app?sslmode=require&application_name=x"
        );
        assert_eq!(
            o,
            TlsOptions {
                verify: Verify::Full,
                root_cert: Some("/ca.pem".into())
            }
        );
        let (url, o) = extract("host=db sslmode=verify-ca sslrootcert=/ca.pem user=u");
        assert_eq!(url, "host=db sslmode=require user=u");
        assert_eq!(o.verify, Verify::Chain);
        let (url, o) = extract("postgres://u@db/app?sslmode=require");
        assert_eq!(url, "postgres://u@db/app?sslmode=require");
        assert_eq!(o.verify, Verify::Nothing);
        let (url, _) = extract("postgres://u@db/app?sslrootcert=/x");
        assert_eq!(url, "postgres://u@db/app");
    }
}
