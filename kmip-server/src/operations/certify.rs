//! Certify (KMIP 1.4 §4.7): an X.509 certificate from the CA the server was
//! given ([`crate::certify`]), registered as a Certificate object.
//!
//! The request carries a PKCS#10 Certificate Request (DER), or names a
//! Public Key object of the client's project, which is certified for its
//! first Name (or its identifier). CRMF, PEM and PGP requests are Feature
//! Not Supported. The certificate gets a Public Key Link to the public key
//! when one is named, and the public key a Certificate Link; the
//! certificate becomes the ID Placeholder. Without a CA the operation is
//! not offered at all (see [`super::offered`]).

use kms_core::object::{KeyMaterial, Link, LinkType};

use super::{Context, fields, response, uid};
use crate::certify::{CertifyError, CertifyRequest};
use crate::message::attributes::template;
use crate::message::{OpResult, OperationError};
use crate::ttlv::enums::CertificateRequestType;
use crate::ttlv::{Tag, Ttlv};

pub async fn handle(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    fields(
        payload,
        &[
            Tag::UNIQUE_IDENTIFIER,
            Tag::CERTIFICATE_REQUEST_TYPE,
            Tag::CERTIFICATE_REQUEST,
            Tag::TEMPLATE_ATTRIBUTE,
        ],
    )?;
    let certifier = ctx.certifier.ok_or_else(|| {
        OperationError::OperationNotSupported("this server has no certificate authority".into())
    })?;
    let attrs = template::read(payload.child(Tag::TEMPLATE_ATTRIBUTE), ctx.version)?;
    let mut parts = template::parts(ctx.project(), &attrs)?;
    let (issued, public_key) = match payload.child(Tag::CERTIFICATE_REQUEST) {
        Some(value) => {
            let kind =
                CertificateRequestType(payload.required(Tag::CERTIFICATE_REQUEST_TYPE)?.as_enum()?);
            if kind != CertificateRequestType::PKCS_10 {
                return Err(OperationError::FeatureNotSupported(
                    "only PKCS#10 certificate requests are supported".into(),
                ));
            }
            let public_key = payload
                .child(Tag::UNIQUE_IDENTIFIER)
                .map(|_| ctx.object_id(payload))
                .transpose()?;
            let der = certifier
                .certify(CertifyRequest::Pkcs10(value.as_bytes()?))
                .await
                .map_err(refused)?;
            (der, public_key)
        }
        None => {
            let id = ctx.object_id(payload)?;
            let object = ctx.kms.get(ctx.actor, ctx.project(), id).await?;
            let Some(KeyMaterial::PublicKeySpki(spki)) = &object.material else {
                return Err(OperationError::IllegalOperation(
                    "Certify certifies a Public Key object or a PKCS#10 request".into(),
                ));
            };
            let subject = object
                .attributes
                .primary_name()
                .map_or_else(|| id.to_string(), str::to_owned);
            let der = certifier
                .certify(CertifyRequest::PublicKey {
                    spki,
                    subject: &subject,
                })
                .await
                .map_err(refused)?;
            (der, Some(id))
        }
    };
    if let Some(pk) = public_key {
        parts.template.links.push(Link {
            link_type: LinkType::PublicKeyLink,
            linked_object_id: pk.to_string(),
        });
    }
    let certificate = ctx
        .kms
        .register(
            ctx.actor,
            ctx.project(),
            KeyMaterial::Certificate(issued),
            None,
            None,
            parts.template,
        )
        .await?;
    if let Some(pk) = public_key {
        ctx.kms
            .modify_attributes(ctx.actor, ctx.project(), pk, |a| {
                a.links.push(Link {
                    link_type: LinkType::CertificateLink,
                    linked_object_id: certificate.to_string(),
                });
                Ok(())
            })
            .await?;
    }
    ctx.set_placeholder(certificate);
    Ok(response(vec![uid(certificate)]))
}

fn refused(e: CertifyError) -> OperationError {
    match e {
        CertifyError::Refused(m) => OperationError::InvalidField(m),
        CertifyError::Failed(m) => OperationError::GeneralFailure(m),
    }
}
