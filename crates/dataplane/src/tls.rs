//! TLS for the gateway's own HTTP calls (REST `HTTP`/`HTTP_PROXY` integrations, HTTP API
//! `HTTP_PROXY` integrations, the JWT authorizer's OIDC discovery and JWKS fetches).
//!
//! Trust roots come from the platform's store through `rustls-native-certs` rather than a
//! compiled-in list (`webpki-roots`): a self-hosted gateway calls backends on the operator's
//! network, whose private CAs live in the system store, and the store honours `SSL_CERT_FILE`
//! and `SSL_CERT_DIR` so an operator (or a test) can name exactly what is trusted. They are
//! read once, when the client is built.
//!
//! `tlsConfig.insecureSkipVerification` does what AWS documents: the certificate need not be
//! issued by a trusted CA (self-signed and private-CA certificates are accepted), but the
//! basic checks remain: the certificate must be within its validity period, name the host,
//! and chain to the root the server presents.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, OtherError, RootCertStore,
    SignatureScheme,
};

/// `ring`, named explicitly: the process-wide default provider is ambiguous as soon as any
/// other crate in the binary enables a second one.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The platform's trust roots (honouring `SSL_CERT_FILE` / `SSL_CERT_DIR`).
fn platform_roots() -> RootCertStore {
    let loaded = rustls_native_certs::load_native_certs();
    for error in &loaded.errors {
        tracing::warn!(%error, "some platform trust roots could not be read");
    }
    let mut roots = RootCertStore::empty();
    let (added, ignored) = roots.add_parsable_certificates(loaded.certs);
    if ignored > 0 {
        tracing::warn!(ignored, "unparsable platform trust roots skipped");
    }
    if added == 0 {
        tracing::warn!(
            "no trusted root certificates found: https:// backends will fail verification (install ca-certificates or set SSL_CERT_FILE)"
        );
    }
    roots
}

fn builder(
    provider: Arc<CryptoProvider>,
) -> rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier> {
    ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        // The ring provider supports both TLS 1.2 and 1.3; this cannot fail for it.
        .unwrap_or_else(|_| unreachable!("ring supports the default protocol versions"))
}

/// Full verification against the platform's roots.
pub(crate) fn verifying_config() -> ClientConfig {
    builder(provider())
        .with_root_certificates(platform_roots())
        .with_no_client_auth()
}

/// `insecureSkipVerification: true`: see the module docs.
pub(crate) fn skip_ca_config() -> ClientConfig {
    let provider = provider();
    builder(provider.clone())
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(SkipCaVerification { provider }))
        .with_no_client_auth()
}

#[derive(Debug)]
struct SkipCaVerification {
    provider: Arc<CryptoProvider>,
}

fn certificate_error(error: webpki::Error) -> rustls::Error {
    rustls::Error::InvalidCertificate(match error {
        webpki::Error::CertExpired { .. } => CertificateError::Expired,
        webpki::Error::CertNotValidYet { .. } => CertificateError::NotValidYet,
        webpki::Error::CertNotValidForName(_) => CertificateError::NotValidForName,
        other => CertificateError::Other(OtherError(Arc::new(other))),
    })
}

impl ServerCertVerifier for SkipCaVerification {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let cert = webpki::EndEntityCert::try_from(end_entity).map_err(certificate_error)?;
        cert.verify_is_valid_for_subject_name(server_name)
            .map_err(certificate_error)?;
        // The root the server presents (the last certificate it sent; the leaf itself when it
        // is self-signed) stands in for a trusted CA: signatures and validity periods along
        // the chain are still checked.
        let root = intermediates.last().unwrap_or(end_entity);
        let anchor = webpki::anchor_from_trusted_cert(root).map_err(certificate_error)?;
        cert.verify_for_usage(
            self.provider.signature_verification_algorithms.all,
            &[anchor],
            intermediates,
            now,
            webpki::KeyUsage::server_auth(),
            None,
            None,
        )
        .map_err(certificate_error)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    /// Self-signed P-256 leaf for IP 127.0.0.1 (CA:FALSE, serverAuth), valid 2020-01-01..02.
    const EXPIRED: &str = concat!(
        "MIIBczCCARigAwIBAgIBATAKBggqhkjOPQQDAjAXMRUwEwYDVQQDDAxwb3J0aWNvLXRlc3QwHhcNMjAwMTAxMDAw",
        "MDAwWhcNMjAwMTAyMDAwMDAwWjAXMRUwEwYDVQQDDAxwb3J0aWNvLXRlc3QwWTATBgcqhkjOPQIBBggqhkjOPQMB",
        "BwNCAATCQYr3AayZSMWm21YOIphrjsv+q9H6hfEVrQRT282Xg8y+m4cwB3V/+GlBRiJgJ0k2s3hCgPVefML3dM3q",
        "X+jDo1UwUzAMBgNVHRMBAf8EAjAAMA8GA1UdEQQIMAaHBH8AAAEwEwYDVR0lBAwwCgYIKwYBBQUHAwEwHQYDVR0O",
        "BBYEFMJGi5NlunYn8ws6iV87C8vk5rB4MAoGCCqGSM49BAMCA0kAMEYCIQDfEEhLrBW0zcbUwC8CkdaEEahA0on6",
        "Yq+aA1QQoWEKegIhANWy08uq+iYJxvCszcL7PM8HqG2VDVe7rWchwgGMMKWO",
    );

    /// The same key and names, valid 2024-01-01..2124-01-01.
    const LASTING: &str = concat!(
        "MIIBdDCCARqgAwIBAgIBAjAKBggqhkjOPQQDAjAXMRUwEwYDVQQDDAxwb3J0aWNvLXRlc3QwIBcNMjQwMTAxMDAw",
        "MDAwWhgPMjEyNDAxMDEwMDAwMDBaMBcxFTATBgNVBAMMDHBvcnRpY28tdGVzdDBZMBMGByqGSM49AgEGCCqGSM49",
        "AwEHA0IABMJBivcBrJlIxabbVg4imGuOy/6r0fqF8RWtBFPbzZeDzL6bhzAHdX/4aUFGImAnSTazeEKA9V58wvd0",
        "zepf6MOjVTBTMAwGA1UdEwEB/wQCMAAwDwYDVR0RBAgwBocEfwAAATATBgNVHSUEDDAKBggrBgEFBQcDATAdBgNV",
        "HQ4EFgQUwkaLk2W6difzCzqJXzsLy+TmsHgwCgYIKoZIzj0EAwIDSAAwRQIhAKeea/YKJEeR/SBEkrhLcQr7Xl+4",
        "Wcfiqy7mlzuMje3eAiAVUEMqgiZUzqDhlgW2dv5tebuPdoct3HiXcpTcg8pAQA==",
    );

    fn der(base64: &str) -> CertificateDer<'static> {
        CertificateDer::from(STANDARD.decode(base64).unwrap())
    }

    fn verify(cert: &str, name: &str) -> Result<ServerCertVerified, rustls::Error> {
        let verifier = SkipCaVerification {
            provider: provider(),
        };
        let name = ServerName::try_from(name.to_owned()).unwrap();
        verifier.verify_server_cert(&der(cert), &[], &name, &[], UnixTime::now())
    }

    #[test]
    fn skipping_ca_verification_keeps_the_basic_checks() {
        // Self-signed, no trusted CA: accepted.
        assert!(verify(LASTING, "127.0.0.1").is_ok());
        // The host name and the validity period are still checked, as AWS documents.
        assert_eq!(
            verify(LASTING, "localhost").unwrap_err(),
            rustls::Error::InvalidCertificate(CertificateError::NotValidForName)
        );
        assert_eq!(
            verify(EXPIRED, "127.0.0.1").unwrap_err(),
            rustls::Error::InvalidCertificate(CertificateError::Expired)
        );
        // Not a certificate at all.
        let verifier = SkipCaVerification {
            provider: provider(),
        };
        let name = ServerName::try_from("127.0.0.1").unwrap();
        assert!(
            verifier
                .verify_server_cert(
                    &CertificateDer::from(vec![1, 2, 3]),
                    &[],
                    &name,
                    &[],
                    UnixTime::now()
                )
                .is_err()
        );
    }
}
