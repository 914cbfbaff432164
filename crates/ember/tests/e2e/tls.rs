//! TLS and mutual TLS on both ports with Phoenix's settings, with certificates the test makes
//! (rcgen): a CA, a server certificate whose key is an encrypted PKCS#8 file (as Phoenix's own
//! suite gives it), and a client certificate. Clients without a certificate, or speaking plain
//! text, are turned away; settings that cannot work stop `ember serve` with a message.

use std::path::Path;

use ember_otlp::collector::trace_service_client::TraceServiceClient;
use ember_otlp::fixtures::{request, span};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

use crate::ingest::refused_with;
use crate::process::Ember;

const KEY_PASSWORD: &str = "key-file-password-42";

struct Pki {
    ca: String,
    client_cert: String,
    client_key: String,
}

/// Writes the CA, the server's certificate and encrypted key, and returns the client's.
fn make_pki(dir: &Path) -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "ember test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();

    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap().signed_by(&server_key, &ca).unwrap();
    let key_der = server_key.serialize_der();
    let key_info = pkcs8::PrivateKeyInfo::try_from(key_der.as_slice()).unwrap();
    let encrypted = key_info.encrypt(pkcs8::rand_core::OsRng, KEY_PASSWORD).unwrap();
    let encrypted_pem = encrypted.to_pem("ENCRYPTED PRIVATE KEY", pkcs8::LineEnding::LF).unwrap();

    let client_key = KeyPair::generate().unwrap();
    let mut client_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    client_params.distinguished_name.push(DnType::CommonName, "ember test client");
    let client = client_params.signed_by(&client_key, &ca).unwrap();

    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.join("server.pem"), server.pem()).unwrap();
    std::fs::write(dir.join("server.key"), encrypted_pem.as_bytes()).unwrap();
    Pki { ca: ca.pem(), client_cert: client.pem(), client_key: client_key.serialize_pem() }
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

#[tokio::test]
async fn mutual_tls_guards_http_and_grpc() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(dir.path());
    let (cert, key, ca) = (path(dir.path(), "server.pem"), path(dir.path(), "server.key"), path(dir.path(), "ca.pem"));
    let env = [
        ("PHOENIX_TLS_ENABLED", "true"),
        ("PHOENIX_TLS_CERT_FILE", cert.as_str()),
        ("PHOENIX_TLS_KEY_FILE", key.as_str()),
        ("PHOENIX_TLS_KEY_FILE_PASSWORD", KEY_PASSWORD),
        ("PHOENIX_TLS_CA_FILE", ca.as_str()),
        ("PHOENIX_TLS_VERIFY_CLIENT", "true"),
    ];
    let ember = Ember::start(dir.path(), &env).await;
    let https = ember.http.replace("http://", "https://");
    let grpcs = ember.grpc.replace("http://", "https://");

    let root = reqwest::Certificate::from_pem(pki.ca.as_bytes()).unwrap();
    let identity = reqwest::Identity::from_pem(format!("{}{}", pki.client_cert, pki.client_key).as_bytes()).unwrap();
    let with_certificate =
        reqwest::Client::builder().use_rustls_tls().add_root_certificate(root.clone()).identity(identity).build().unwrap();
    let health = with_certificate.get(format!("{https}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let without_certificate = reqwest::Client::builder().use_rustls_tls().add_root_certificate(root).build().unwrap();
    assert!(without_certificate.get(format!("{https}/healthz")).send().await.is_err(), "a client without a certificate is turned away");
    assert!(reqwest::get(format!("{}/healthz", ember.http)).await.is_err(), "plain HTTP is not served");

    let tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&pki.ca)).domain_name("localhost");
    let channel = Channel::from_shared(grpcs.clone())
        .unwrap()
        .tls_config(tls.clone().identity(Identity::from_pem(&pki.client_cert, &pki.client_key)))
        .unwrap()
        .connect()
        .await
        .unwrap();
    TraceServiceClient::new(channel)
        .export(request(Some("over-tls"), vec![span(1, 1, None, "LLM")]))
        .await
        .expect("export over mutual TLS");
    let spans = with_certificate.get(format!("{https}/v1/projects/over-tls/spans")).send().await.unwrap();
    assert_eq!(spans.json::<serde_json::Value>().await.unwrap()["data"].as_array().unwrap().len(), 1);
    let anonymous = Channel::from_shared(grpcs).unwrap().tls_config(tls).unwrap().connect().await;
    let refused = match anonymous {
        Err(_) => true,
        Ok(channel) => TraceServiceClient::new(channel).export(request(Some("x"), vec![span(2, 2, None, "LLM")])).await.is_err(),
    };
    assert!(refused, "a gRPC client without a certificate is turned away");
    ember.terminate().await;
}

#[tokio::test]
async fn tls_settings_that_cannot_work_stop_ember_serve_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    make_pki(dir.path());
    let (cert, key, ca) = (path(dir.path(), "server.pem"), path(dir.path(), "server.key"), path(dir.path(), "ca.pem"));
    for (settings, message) in [
        (vec![("PHOENIX_TLS_ENABLED", "true")], "PHOENIX_TLS_CERT_FILE must be set when PHOENIX_TLS_ENABLED is true".to_string()),
        (
            vec![("PHOENIX_TLS_ENABLED_FOR_GRPC", "true"), ("PHOENIX_TLS_CERT_FILE", cert.as_str())],
            "PHOENIX_TLS_KEY_FILE must be set when PHOENIX_TLS_ENABLED is true".to_string(),
        ),
        (
            vec![("PHOENIX_TLS_ENABLED", "true"), ("PHOENIX_TLS_CERT_FILE", cert.as_str()), ("PHOENIX_TLS_KEY_FILE", key.as_str())],
            "is encrypted: set PHOENIX_TLS_KEY_FILE_PASSWORD".to_string(),
        ),
        (
            vec![
                ("PHOENIX_TLS_ENABLED", "true"),
                ("PHOENIX_TLS_CERT_FILE", cert.as_str()),
                ("PHOENIX_TLS_KEY_FILE", key.as_str()),
                ("PHOENIX_TLS_KEY_FILE_PASSWORD", "wrong"),
            ],
            "does not open with PHOENIX_TLS_KEY_FILE_PASSWORD".to_string(),
        ),
        (
            vec![
                ("PHOENIX_TLS_ENABLED", "true"),
                ("PHOENIX_TLS_CERT_FILE", ca.as_str()),
                ("PHOENIX_TLS_KEY_FILE", key.as_str()),
                ("PHOENIX_TLS_KEY_FILE_PASSWORD", KEY_PASSWORD),
            ],
            "cannot be used together".to_string(),
        ),
        (
            vec![
                ("PHOENIX_TLS_ENABLED", "true"),
                ("PHOENIX_TLS_CERT_FILE", cert.as_str()),
                ("PHOENIX_TLS_KEY_FILE", key.as_str()),
                ("PHOENIX_TLS_VERIFY_CLIENT", "true"),
            ],
            "PHOENIX_TLS_CA_FILE must be set when PHOENIX_TLS_VERIFY_CLIENT is true".to_string(),
        ),
    ] {
        let stderr = refused_with(&settings).await;
        assert!(stderr.contains(&message), "{settings:?}: {stderr}");
        assert!(!stderr.contains(KEY_PASSWORD), "the key's password is never printed");
    }
}

/// A self-signed certificate marked as a CA, with its key.
fn self_signed_ca(name: &str) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.distinguished_name.push(DnType::CommonName, name);
    (params.self_signed(&key).unwrap().pem(), key.serialize_pem())
}

/// Phoenix's own deployments (and its test suite) give the client a self-signed certificate
/// marked as a CA and name that same certificate as `PHOENIX_TLS_CA_FILE`: OpenSSL trusts it as
/// pinned, so ember must too, on both ports. A different self-signed certificate is refused, and
/// a client that opens a connection and never completes its handshake delays no one.
#[tokio::test]
async fn a_pinned_client_certificate_is_trusted_and_a_stranger_is_not() {
    let dir = tempfile::tempdir().unwrap();
    make_pki(dir.path());
    let (client_cert, client_key) = self_signed_ca("pinned client");
    let (stranger_cert, stranger_key) = self_signed_ca("stranger");
    std::fs::write(dir.path().join("client.pem"), &client_cert).unwrap();
    let (cert, key, pinned) = (path(dir.path(), "server.pem"), path(dir.path(), "server.key"), path(dir.path(), "client.pem"));
    let env = [
        ("PHOENIX_TLS_ENABLED", "true"),
        ("PHOENIX_TLS_CERT_FILE", cert.as_str()),
        ("PHOENIX_TLS_KEY_FILE", key.as_str()),
        ("PHOENIX_TLS_KEY_FILE_PASSWORD", KEY_PASSWORD),
        ("PHOENIX_TLS_CA_FILE", pinned.as_str()),
        ("PHOENIX_TLS_VERIFY_CLIENT", "true"),
    ];
    let ember = Ember::start(dir.path(), &env).await;
    let https = ember.http.replace("http://", "https://");
    let grpcs = ember.grpc.replace("http://", "https://");
    let server_ca = std::fs::read_to_string(dir.path().join("ca.pem")).unwrap();
    let http_client = |cert: &str, key: &str| {
        reqwest::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(reqwest::Certificate::from_pem(server_ca.as_bytes()).unwrap())
            .identity(reqwest::Identity::from_pem(format!("{cert}{key}").as_bytes()).unwrap())
            .build()
            .unwrap()
    };
    let health = http_client(&client_cert, &client_key).get(format!("{https}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(http_client(&stranger_cert, &stranger_key).get(format!("{https}/healthz")).send().await.is_err(), "a stranger is turned away");

    // A connection that never speaks, left open while another client connects and exports.
    let silent = tokio::net::TcpStream::connect(ember.grpc.trim_start_matches("http://")).await.unwrap();
    let tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&server_ca)).domain_name("localhost");
    let channel = Channel::from_shared(grpcs.clone())
        .unwrap()
        .tls_config(tls.clone().identity(Identity::from_pem(&client_cert, &client_key)))
        .unwrap()
        .connect()
        .await
        .expect("a pinned certificate connects over gRPC");
    TraceServiceClient::new(channel).export(request(Some("pinned"), vec![span(1, 1, None, "LLM")])).await.expect("export");
    drop(silent);
    let stranger = match Channel::from_shared(grpcs)
        .unwrap()
        .tls_config(tls.identity(Identity::from_pem(&stranger_cert, &stranger_key)))
        .unwrap()
        .connect()
        .await
    {
        Err(_) => true,
        Ok(channel) => TraceServiceClient::new(channel).export(request(Some("x"), vec![span(2, 2, None, "LLM")])).await.is_err(),
    };
    assert!(stranger, "a stranger is turned away over gRPC");
    ember.terminate().await;
}
