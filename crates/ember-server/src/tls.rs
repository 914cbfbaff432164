//! TLS for the HTTP and gRPC ports with Phoenix's settings (rustls): the certificate chain and
//! private key (PKCS#8, PKCS#1 or SEC1 PEM; an encrypted key, PKCS#8 or OpenSSL's traditional
//! format, is opened with `PHOENIX_TLS_KEY_FILE_PASSWORD`), and with `PHOENIX_TLS_VERIFY_CLIENT` mutual TLS: a client
//! must present a certificate signed by `PHOENIX_TLS_CA_FILE`. Files are read once, at startup;
//! a file that cannot be used stops `ember serve` with a message naming it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pkcs8::der::zeroize::Zeroizing;
use pkcs8::EncryptedPrivateKeyInfo;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::tls_client_verifier::ClientVerifier;

/// Where the certificate, key and client CA are.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub key_file_password: Option<String>,
    /// With client verification: the CA that signs client certificates.
    pub client_ca_file: Option<PathBuf>,
}

/// The certificates and key, read and checked.
pub struct TlsMaterial {
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    client_ca: Option<Vec<CertificateDer<'static>>>,
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|error| format!("cannot read the TLS {what} file {}: {error}", path.display()))
}

fn certificates(pem: &[u8], path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| format!("the TLS {what} file {} is not PEM certificates: {error}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("the TLS {what} file {} holds no certificate", path.display()));
    }
    Ok(certs)
}

/// The private key of `pem`, decrypted with `password` when it is encrypted.
fn private_key(pem: &[u8], password: Option<&str>, path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let text = std::str::from_utf8(pem).map_err(|_| format!("the TLS key file {} is not PEM", path.display()))?;
    if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        let Some(password) = password else {
            return Err(format!("the TLS key file {} is encrypted: set PHOENIX_TLS_KEY_FILE_PASSWORD", path.display()));
        };
        let (_, document) = pkcs8::der::Document::from_pem(text)
            .map_err(|error| format!("the TLS key file {} is not an encrypted PKCS#8 key: {error}", path.display()))?;
        let encrypted = EncryptedPrivateKeyInfo::try_from(document.as_bytes())
            .map_err(|error| format!("the TLS key file {} is not an encrypted PKCS#8 key: {error}", path.display()))?;
        let decrypted = encrypted
            .decrypt(password)
            .map_err(|_| format!("the TLS key file {} does not open with PHOENIX_TLS_KEY_FILE_PASSWORD", path.display()))?;
        return Ok(PrivateKeyDer::Pkcs8(decrypted.as_bytes().to_vec().into()));
    }
    if text.contains("Proc-Type: 4,ENCRYPTED") {
        let Some(password) = password else {
            return Err(format!("the TLS key file {} is encrypted: set PHOENIX_TLS_KEY_FILE_PASSWORD", path.display()));
        };
        let (label, der) = crate::tls_legacy_pem::decrypt(text, password).map_err(|problem| match problem.as_str() {
            "the password does not open it" => {
                format!("the TLS key file {} does not open with PHOENIX_TLS_KEY_FILE_PASSWORD", path.display())
            }
            _ => format!("the TLS key file {} cannot be read: {problem}", path.display()),
        })?;
        return match label.as_str() {
            "RSA PRIVATE KEY" => Ok(PrivateKeyDer::Pkcs1(der.into())),
            "EC PRIVATE KEY" => Ok(PrivateKeyDer::Sec1(der.into())),
            other => Err(format!("the TLS key file {} holds a {other}, not a private key", path.display())),
        };
    }
    PrivateKeyDer::from_pem_slice(pem).map_err(|error| format!("the TLS key file {} holds no private key: {error}", path.display()))
}

impl TlsFiles {
    pub fn load(&self) -> Result<TlsMaterial, String> {
        let cert_pem = read(&self.cert_file, "certificate")?;
        let certs = certificates(&cert_pem, &self.cert_file, "certificate")?;
        let key_bytes = Zeroizing::new(read(&self.key_file, "key")?);
        let key = private_key(&key_bytes, self.key_file_password.as_deref(), &self.key_file)?;
        let client_ca = match &self.client_ca_file {
            Some(path) => {
                let pem = read(path, "CA")?;
                Some(certificates(&pem, path, "CA")?)
            }
            None => None,
        };
        let material = TlsMaterial { certs, key, client_ca };
        // Building the HTTP configuration checks that the key belongs to the certificate.
        material.http_config()?;
        Ok(material)
    }
}

impl TlsMaterial {
    /// The rustls configuration of the HTTP port (HTTP/1.1).
    pub fn http_config(&self) -> Result<Arc<rustls::ServerConfig>, String> {
        self.config(b"http/1.1")
    }

    /// The rustls configuration of the gRPC port (HTTP/2).
    pub fn grpc_config(&self) -> Result<Arc<rustls::ServerConfig>, String> {
        self.config(b"h2")
    }

    fn config(&self, alpn: &[u8]) -> Result<Arc<rustls::ServerConfig>, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|error| format!("TLS: {error}"))?;
        let builder = match &self.client_ca {
            Some(roots) => {
                let mut store = rustls::RootCertStore::empty();
                for root in roots {
                    store.add(root.clone()).map_err(|error| format!("the TLS CA certificate cannot be used: {error}"))?;
                }
                let chained = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(store), provider)
                    .build()
                    .map_err(|error| format!("the TLS CA certificate cannot be used: {error}"))?;
                builder.with_client_cert_verifier(Arc::new(ClientVerifier::new(chained, roots.clone())))
            }
            None => builder.with_no_client_auth(),
        };
        let mut config = builder
            .with_single_cert(self.certs.clone(), self.key.clone_key())
            .map_err(|error| format!("the TLS certificate and key cannot be used together: {error}"))?;
        config.alpn_protocols = vec![alpn.to_vec()];
        Ok(Arc::new(config))
    }
}

#[cfg(test)]
mod tests {
    /// A key Python's `cryptography` wrote as `TraditionalOpenSSL` with a password (as Phoenix's
    /// suite writes its server key), and the same key unencrypted.
    #[test]
    fn traditional_encrypted_keys_open_with_their_password_only() {
        let encrypted = include_str!("../tests/fixtures/traditional_key_encrypted.pem");
        let plain = pem::parse(include_str!("../tests/fixtures/traditional_key_plain.pem")).unwrap();
        let (label, der) = crate::tls_legacy_pem::decrypt(encrypted, "fixture-password").unwrap();
        assert_eq!((label.as_str(), der.as_slice()), ("RSA PRIVATE KEY", plain.contents()));
        assert_eq!(crate::tls_legacy_pem::decrypt(encrypted, "wrong").unwrap_err(), "the password does not open it");
        let path = std::path::Path::new("key.pem");
        let key = super::private_key(encrypted.as_bytes(), Some("fixture-password"), path).unwrap();
        assert!(matches!(key, super::PrivateKeyDer::Pkcs1(_)));
        assert!(super::private_key(encrypted.as_bytes(), None, path).unwrap_err().contains("set PHOENIX_TLS_KEY_FILE_PASSWORD"));
    }
}
