//! TLS for connections, with libpq's `sslmode` meanings:
//!
//! - `disable`: no TLS; `prefer` (the default): TLS when the server offers it; `require`:
//!   TLS or no connection. Neither checks the server's certificate (as in libpq).
//! - `verify-ca`: TLS, and the certificate must chain to a trusted root;
//!   `verify-full`: also for the host name connected to.
//!
//! As in libpq, the trusted roots of `verify-ca` and `verify-full` are only the PEM
//! certificates of `sslrootcert` (a connection parameter), else of `PGSSLROOTCERT`, else of
//! `~/.postgresql/root.crt`; with none of them the connection is refused before it is
//! tried. `sslrootcert=system` trusts the public CAs instead (the Mozilla roots of
//! webpki-roots, where libpq 16 takes the system's).

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
    let url = input.starts_with("postgres://") || input.starts_with("postgresql://");
    let rewritten = if url {
        match input.split_once('?') {
            Some((base, query)) => {
                let params: Vec<String> = query
                    .split('&')
                    .filter_map(|pair| {
                        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                        if key == "sslrootcert" {
                            return take(key, &percent_decode(value));
                        }
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
        match keyword_pairs(input) {
            // Every value written back quoted, so spaces and quotes in it survive.
            Some(pairs) => pairs
                .iter()
                .filter_map(|(key, value)| {
                    take(key, value).map(|v| {
                        format!("{key}='{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
                    })
                })
                .collect::<Vec<_>>()
                .join(" "),
            // Not keyword/value syntax: tokio-postgres says what is wrong with it.
            None => input.to_owned(),
        }
    };
    if options.root_cert.is_none() {
        options.root_cert = std::env::var_os("PGSSLROOTCERT")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from);
    }
    (rewritten, options)
}

/// A keyword/value connection string's pairs, read as libpq reads them: `key = value`,
/// spaces allowed around `=`, a value either single-quoted (`password='a b'`) or running
/// to the next space, a backslash escaping the next character in both. `None` when it is
/// not that syntax.
pub fn keyword_pairs(input: &str) -> Option<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    let mut chars = input.chars().peekable();
    loop {
        while chars.next_if(char::is_ascii_whitespace).is_some() {}
        if chars.peek().is_none() {
            return Some(pairs);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_ascii_whitespace() && *c != '=') {
            key.push(c);
        }
        while chars.next_if(char::is_ascii_whitespace).is_some() {}
        if key.is_empty() || chars.next() != Some('=') {
            return None;
        }
        while chars.next_if(char::is_ascii_whitespace).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next()? {
                    '\'' => break,
                    '\\' => value.push(chars.next()?),
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_ascii_whitespace()) {
                if c == '\\' {
                    value.push(chars.next()?);
                } else {
                    value.push(c);
                }
            }
        }
        pairs.push((key, value));
    }
}

/// `%xx` escapes decoded (a URL's parameter value); anything malformed is kept as it is.
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = value
                .get(i + 1..i + 3)
                .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The roots `verify-ca` and `verify-full` trust, as libpq chooses them: `sslrootcert`
/// (or `PGSSLROOTCERT`, already in `root_cert`), else `~/.postgresql/root.crt`; `system`:
/// the public CAs.
fn roots(root_cert: Option<&Path>) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    let path = match root_cert {
        Some(path) if path == Path::new("system") => {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            return Ok(roots);
        }
        Some(path) => path.to_path_buf(),
        None => match std::env::var_os("HOME")
            .map(|home| PathBuf::from(home).join(".postgresql/root.crt"))
        {
            Some(path) if path.exists() => path,
            _ => {
                return Err(Error::Config(
                    "sslmode=verify-ca and verify-full check the server's certificate against \
                     the CA of sslrootcert, and none is given: pass sslrootcert=<CA file> in \
                     the URL or set PGSSLROOTCERT (libpq's default, ~/.postgresql/root.crt, \
                     does not exist); sslrootcert=system trusts the public CAs"
                        .to_owned(),
                ));
            }
        },
    };
    let failed =
        |e: &dyn std::fmt::Display| Error::Config(format!("sslrootcert {}: {e}", path.display()));
    for cert in CertificateDer::pem_file_iter(&path).map_err(|e| failed(&e))? {
        roots
            .add(cert.map_err(|e| failed(&e))?)
            .map_err(|e| failed(&e))?;
    }
    if roots.is_empty() {
        return Err(failed(&"holds no certificate"));
    }
    Ok(roots)
}

/// The TLS connector for these options.
pub fn connector(options: &TlsOptions) -> Result<MakeRustlsConnect> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("TLS: {e}")))?;
    if options.verify == Verify::Chain && options.root_cert.as_deref() == Some(Path::new("system"))
    {
        // The public CAs vouch for names, not for a server: any certificate they signed,
        // for any name, would pass (libpq refuses it too).
        return Err(Error::Config(
            "sslrootcert=system needs sslmode=verify-full: the public CAs certify names, so \
             verify-ca would accept any certificate they signed"
                .to_owned(),
        ));
    }
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
        assert_eq!(url, "host='db' sslmode='require' user='u'");
        assert_eq!(o.verify, Verify::Chain);
        let (url, o) = extract("postgres://u@db/app?sslmode=require");
        assert_eq!(url, "postgres://u@db/app?sslmode=require");
        assert_eq!(o.verify, Verify::Nothing);
        let (url, o) = extract("postgres://u@db/app?sslrootcert=/my%20ca.pem");
        assert_eq!(url, "postgres://u@db/app");
        assert_eq!(o.root_cert, Some("/my ca.pem".into()));
    }

    #[test]
    fn keyword_value_strings_are_read_as_libpq_reads_them() {
        let (url, o) = extract(
            "host = db  password='a b\\'c' user=u\\ x sslmode =verify-ca sslrootcert= '/my ca.pem'",
        );
        assert_eq!(
            url,
            "host='db' password='a b\\'c' user='u x' sslmode='require'"
        );
        assert_eq!(o.verify, Verify::Chain);
        assert_eq!(o.root_cert, Some("/my ca.pem".into()));
        // What tokio-postgres makes of the rewritten string: the values as written.
        let config: tokio_postgres::Config = url.parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.get_password(), Some("a b'c".as_bytes()));
        assert_eq!(config.get_user(), Some("u x"));
        assert_eq!(
            keyword_pairs("a=1 b = '2 3'  c='\\\\'"),
            Some(vec![
                ("a".into(), "1".into()),
                ("b".into(), "2 3".into()),
                ("c".into(), "\\".into())
            ])
        );
        assert_eq!(keyword_pairs("a='unterminated"), None);
        assert_eq!(keyword_pairs("novalue"), None);
        assert_eq!(keyword_pairs("  "), Some(vec![]));
    }

    #[test]
    fn verify_modes_trust_only_the_named_root() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap_or_else(|e| panic!("{e}"));
        let err = roots(Some(&empty)).err().map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("holds no certificate")),
            "{err:?}"
        );
        // `system`: the public CAs, as libpq 16 reads it, and only for verify-full.
        let system = roots(Some(Path::new("system"))).unwrap_or_else(|e| panic!("{e}"));
        assert!(system.len() > 50);
        let with = |verify| TlsOptions {
            verify,
            root_cert: Some("system".into()),
        };
        assert!(connector(&with(Verify::Full)).is_ok());
        let err = connector(&with(Verify::Chain)).err().map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("needs sslmode=verify-full")),
            "{err:?}"
        );
        // Only ASCII spaces separate (as libpq's isspace): a no-break space is part of a
        // value.
        assert_eq!(
            keyword_pairs("password=a\u{a0}b"),
            Some(vec![("password".into(), "a\u{a0}b".into())])
        );
        assert_eq!(percent_decode("a%20b%+1%zz"), "a b%+1%zz");
    }
}
