//! The KMIP CA and the listener's certificate.
//!
//! [`KmipPki::ensure`] runs at `init` and at every start. The first time it
//! creates, in the system project:
//!
//! * the CA key pair (ECDSA P-256, Active) through `Kms::create_key_pair`,
//!   so each signature is audited and checked against the key's lifecycle.
//!   Where the private key lives is `kmip.ca_key`: by default a managed key
//!   wrapped by the root of trust (usage Sign + Certificate Sign + CRL
//!   Sign); with `ca_key = "hsm"` and a PKCS#11 root it is generated inside
//!   the token, non-extractable, and every certificate and CRL is signed
//!   there (usage Sign: a token key is single-purpose, and kms-core's
//!   resident keys carry Sign or Verify only);
//! * the self-signed CA certificate (`pki::x509::CertificateAuthority`,
//!   ten years);
//! * the server key pair and a TLS server certificate for `kmip.hostnames`
//!   (one year).
//!
//! Later starts open the CA from its stored certificate, and issue a new
//! server certificate when the host names changed or the old one has less
//! than 30 days left. The server's private key is read from kms-core into
//! memory for rustls at start (`Kms::get`); it is never written to disk.

use std::sync::Arc;

use ::pki::x509::{
    CaCertificate, CertificateAuthority, CrlParams, IssuedCertificate, KmsSigner,
    RevokedCertificate, SubjectAltNames, Validity,
};
use anyhow::Context;
use kmip_server::listener::tls::{self, TlsMaterial};
use kms_core::crypto::keygen::KeySpec;
use kms_core::ids::ObjectId;
use kms_core::object::{KeyMaterial, UsageMask};
use kms_core::service::{Actor, KeyLocation, Kms, Template};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

use super::certifier::KmipCertifier;
use super::registry::{CaState, CertificateRecord, Registry};

/// The CA's common name.
pub const CA_NAME: &str = "Strongroom KMIP CA";
const CA_LIFETIME: Duration = Duration::days(3650);
const SERVER_LIFETIME: Duration = Duration::days(365);
/// A server certificate with less left than this is replaced at start.
const SERVER_RENEW_BEFORE: Duration = Duration::days(30);
/// CRLs are re-signed at every start and change, and at least this often.
pub const CRL_LIFETIME: Duration = Duration::days(7);

/// The KMIP CA, opened.
pub struct KmipPki {
    kms: Kms,
    registry: Registry,
    ca: CertificateAuthority<KmsSigner>,
    state: CaState,
}

impl std::fmt::Debug for KmipPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmipPki")
            .field("ca", &self.ca)
            .field("hostnames", &self.state.hostnames)
            .finish_non_exhaustive()
    }
}

fn active(usage: UsageMask, name: &str) -> Template {
    Template {
        activation_date: Some(OffsetDateTime::now_utc() - Duration::seconds(1)),
        usage_mask: Some(usage),
        names: vec![kms_core::object::Name::text(name)],
        ..Template::default()
    }
}

/// The CA private key's template for `location` (see the module docs for
/// why the usage masks differ).
fn ca_private_template(location: KeyLocation) -> Template {
    let usage = match location {
        KeyLocation::Software => {
            UsageMask::SIGN | UsageMask::CERTIFICATE_SIGN | UsageMask::CRL_SIGN
        }
        KeyLocation::Hsm => UsageMask::SIGN,
    };
    Template {
        location,
        ..active(usage, "kmip-ca")
    }
}

impl KmipPki {
    /// Opens the KMIP CA, creating it (and the server certificate) if this
    /// install has none yet, and re-issuing the server certificate if
    /// `hostnames` changed or it is about to expire. `ca_key` says where a
    /// new CA key is generated; an existing CA keeps its key.
    pub async fn ensure(
        kms: &Kms,
        hostnames: &[String],
        ca_key: KeyLocation,
    ) -> anyhow::Result<Self> {
        let registry = Registry::new(kms);
        let actor = Actor::system();
        let names = SubjectAltNames::parse(hostnames.iter().map(String::as_str))
            .context("kmip.hostnames")?;
        let pki = match registry.ca_state().await? {
            Some((state, revision)) => {
                let mut pki = Self::from_state(kms, registry, state).await?;
                let expires = pki.server_certificate()?.not_after();
                if pki.state.hostnames != hostnames
                    || expires - OffsetDateTime::now_utc() < SERVER_RENEW_BEFORE
                {
                    let mut state = pki.state.clone();
                    state.server_certificate = pki
                        .issue_server(state.server_private_key, &names)
                        .await?
                        .pem()?;
                    state.hostnames = hostnames.to_vec();
                    pki.registry
                        .put_ca_state(&actor, &state, Some(revision))
                        .await?;
                    tracing::info!(hostnames = ?hostnames, "issued a new KMIP server certificate");
                    pki.state = state;
                }
                pki
            }
            None => Self::create(kms, registry, &actor, hostnames, &names, ca_key).await?,
        };
        Ok(pki)
    }

    /// Opens the KMIP CA if this install has one.
    pub async fn open(kms: &Kms) -> anyhow::Result<Option<Self>> {
        let registry = Registry::new(kms);
        match registry.ca_state().await? {
            Some((state, _)) => Ok(Some(Self::from_state(kms, registry, state).await?)),
            None => Ok(None),
        }
    }

    async fn from_state(kms: &Kms, registry: Registry, state: CaState) -> anyhow::Result<Self> {
        let signer = signer(kms, state.ca_private_key).await?;
        let certificate = CaCertificate::from_pem(&state.ca_certificate)
            .context("the stored KMIP CA certificate")?;
        let ca = CertificateAuthority::open(signer, certificate)?;
        Ok(Self {
            kms: kms.clone(),
            registry,
            ca,
            state,
        })
    }

    async fn create(
        kms: &Kms,
        registry: Registry,
        actor: &Actor,
        hostnames: &[String],
        names: &SubjectAltNames,
        location: KeyLocation,
    ) -> anyhow::Result<Self> {
        let project = kms.system_project();
        let ca_key = kms
            .create_key_pair(
                actor,
                project,
                KeySpec::EcP256,
                ca_private_template(location),
                active(UsageMask::VERIFY, "kmip-ca-public"),
            )
            .await
            .with_context(|| match location {
                KeyLocation::Software => "cannot create the KMIP CA key".to_string(),
                KeyLocation::Hsm => {
                    "cannot create the KMIP CA key in the PKCS#11 token (kmip.ca_key = \"hsm\")"
                        .to_string()
                }
            })?;
        let signer = signer(kms, ca_key.private_key).await?;
        let ca =
            CertificateAuthority::create(signer, CA_NAME, Validity::starting_now(CA_LIFETIME)?)
                .await
                .context("cannot create the KMIP CA certificate")?;
        let server_key = kms
            .create_key_pair(
                actor,
                project,
                KeySpec::EcP256,
                active(UsageMask::SIGN, "kmip-server"),
                active(UsageMask::VERIFY, "kmip-server-public"),
            )
            .await
            .context("cannot create the KMIP server key")?;
        let mut pki = Self {
            kms: kms.clone(),
            registry,
            state: CaState {
                ca_private_key: ca_key.private_key,
                ca_certificate: ca.certificate().pem()?,
                server_private_key: server_key.private_key,
                server_certificate: String::new(),
                hostnames: hostnames.to_vec(),
            },
            ca,
        };
        pki.state.server_certificate = pki
            .issue_server(server_key.private_key, names)
            .await?
            .pem()?;
        pki.registry.put_ca_state(actor, &pki.state, None).await?;
        tracing::info!(hostnames = ?hostnames, "created the KMIP CA and server certificate");
        Ok(pki)
    }

    async fn issue_server(
        &self,
        server_key: ObjectId,
        names: &SubjectAltNames,
    ) -> anyhow::Result<IssuedCertificate> {
        let public = signer(&self.kms, server_key).await?;
        let public = ::pki::x509::Signer::public_key(&public);
        self.ca
            .issue_server(&public, names, self.validity(SERVER_LIFETIME)?)
            .await
            .context("cannot issue the KMIP server certificate")
    }

    /// A validity starting now, shortened to end with the CA's.
    fn validity(&self, lifetime: Duration) -> anyhow::Result<Validity> {
        let ca_end = self.ca.certificate().certificate().not_after();
        let now = OffsetDateTime::now_utc();
        let end = (now + lifetime).min(ca_end);
        Ok(Validity::new(now - Duration::minutes(5), end)?)
    }

    pub fn ca(&self) -> &CertificateAuthority<KmsSigner> {
        &self.ca
    }

    /// The CA as KMIP Certify's [`KmipCertifier`]: the same certificate
    /// and signer, held apart so the listener can share it.
    pub fn certifier(&self) -> anyhow::Result<KmipCertifier> {
        let ca =
            CertificateAuthority::open(self.ca.signer().clone(), self.ca.certificate().clone())?;
        Ok(KmipCertifier::new(ca))
    }

    pub fn ca_pem(&self) -> &str {
        &self.state.ca_certificate
    }

    pub fn state(&self) -> &CaState {
        &self.state
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    fn server_certificate(&self) -> anyhow::Result<IssuedCertificate> {
        Ok(IssuedCertificate::from_pem(&self.state.server_certificate)?)
    }

    /// Issues a client certificate on `public_key` for `name`, valid for
    /// `lifetime` (refused if it would outlive the CA).
    pub async fn issue_client(
        &self,
        public_key: &::pki::x509::SubjectPublicKeyInfoOwned,
        name: &str,
        lifetime: Duration,
    ) -> anyhow::Result<IssuedCertificate> {
        let now = OffsetDateTime::now_utc();
        Ok(self
            .ca
            .issue_client(
                public_key,
                name,
                Validity::new(now - Duration::minutes(5), now + lifetime)?,
            )
            .await?)
    }

    /// Signs a CRL listing the revoked certificates among `certificates`.
    pub async fn crl(&self, certificates: &[CertificateRecord]) -> anyhow::Result<Vec<u8>> {
        let mut revoked = Vec::new();
        for c in certificates {
            if let Some(at) = c.revoked_at {
                revoked.push(RevokedCertificate {
                    serial: ::pki::x509::issue::serial_from_hex(&c.serial)?,
                    revoked_at: OffsetDateTime::from_unix_timestamp(at)?,
                    reason: None,
                });
            }
        }
        let crl = self
            .ca
            .crl(&revoked, &CrlParams::starting_now(CRL_LIFETIME)?)
            .await
            .context("cannot sign the KMIP CRL")?;
        Ok(crl.der().to_vec())
    }

    /// The listener's TLS configuration: this CA, `crl`, the server
    /// certificate and its private key, read from kms-core now.
    pub async fn tls_config(&self, crl: Vec<u8>) -> anyhow::Result<Arc<rustls::ServerConfig>> {
        let key = match self
            .kms
            .get(
                &Actor::system(),
                self.kms.system_project(),
                self.state.server_private_key,
            )
            .await
            .context("cannot read the KMIP server key")?
            .material
        {
            Some(KeyMaterial::PrivateKeyPkcs8(der)) => {
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der.expose().to_vec()))
            }
            _ => anyhow::bail!("the KMIP server key object holds no private key"),
        };
        let server = self.server_certificate()?;
        Ok(tls::server_config(TlsMaterial {
            client_ca: self.ca.certificate().der().to_vec(),
            crls: vec![crl],
            server_chain: vec![server.der().to_vec()],
            server_key: key,
        })?)
    }
}

async fn signer(kms: &Kms, private_key: ObjectId) -> anyhow::Result<KmsSigner> {
    KmsSigner::new(
        kms.clone(),
        Actor::new("kmip-ca", None),
        kms.system_project(),
        private_key,
        None,
    )
    .await
    .context("cannot open the KMIP CA key")
}
