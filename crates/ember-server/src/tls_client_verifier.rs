//! Client-certificate verification for mutual TLS: a certificate must chain to `PHOENIX_TLS_CA_FILE`
//! (webpki), or be one of that file's certificates presented as itself and valid now. The second
//! case is how OpenSSL (and so Phoenix) treats a pinned self-signed certificate, and how Phoenix's
//! own deployments and tests hand a client its identity: the CA file *is* the client's certificate.
//! webpki alone refuses it because the certificate is marked as a CA.

use std::sync::Arc;

use tokio_rustls::rustls;
use tokio_rustls::rustls::client::danger::HandshakeSignatureValid;
use tokio_rustls::rustls::pki_types::{CertificateDer, UnixTime};
use tokio_rustls::rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use tokio_rustls::rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

/// webpki's verifier, plus acceptance of a trusted certificate presented as itself.
#[derive(Debug)]
pub struct ClientVerifier {
    chained: Arc<dyn ClientCertVerifier>,
    pinned: Vec<CertificateDer<'static>>,
}

impl ClientVerifier {
    pub fn new(chained: Arc<dyn ClientCertVerifier>, pinned: Vec<CertificateDer<'static>>) -> Self {
        ClientVerifier { chained, pinned }
    }

    /// Whether `certificate` is one of the trusted certificates and valid at `now`.
    fn is_pinned_and_current(&self, certificate: &CertificateDer<'_>, now: UnixTime) -> bool {
        if !self.pinned.iter().any(|pinned| pinned.as_ref() == certificate.as_ref()) {
            return false;
        }
        let Ok((_, parsed)) = x509_parser::parse_x509_certificate(certificate.as_ref()) else {
            return false;
        };
        let Ok(now) = x509_parser::time::ASN1Time::from_timestamp(now.as_secs().try_into().unwrap_or(i64::MAX)) else {
            return false;
        };
        parsed.validity().is_valid_at(now)
    }
}

impl ClientCertVerifier for ClientVerifier {
    fn offer_client_auth(&self) -> bool {
        self.chained.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.chained.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.chained.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        match self.chained.verify_client_cert(end_entity, intermediates, now) {
            Ok(verified) => Ok(verified),
            Err(_) if self.is_pinned_and_current(end_entity, now) => Ok(ClientCertVerified::assertion()),
            Err(error) => Err(error),
        }
    }

    // The handshake signature proves possession of the certificate's key whichever way the
    // certificate was trusted.
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chained.verify_tls12_signature(message, certificate, signature)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chained.verify_tls13_signature(message, certificate, signature)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.chained.supported_verify_schemes()
    }
}
