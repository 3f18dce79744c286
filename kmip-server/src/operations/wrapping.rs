//! Wrapped Get: the Key Wrapping Specification (KMIP 1.4 §2.1.6) applied
//! to the Key Block of the object a Get returns.
//!
//! | wrapping key | Cryptographic Parameters (request's, else the key's) | wrapped with |
//! |---|---|---|
//! | AES (128 or 256) | Block Cipher Mode NISTKeyWrap | AES Key Wrap, RFC 3394 |
//! | AES (128 or 256) | Block Cipher Mode AESKeyWrapPadding | AES Key Wrap with Padding, RFC 5649 |
//! | RSA (public or private) | Padding Method OAEP (hashes as in Encrypt) or PKCS1 v1.5 | RSA encryption |
//!
//! The Wrapping Method is Encrypt; MAC/sign methods, attributes wrapped
//! with the key (Attribute Name) and wrapping a key under itself are
//! refused. The Encoding Option is TTLV Encoding by default (the Key Value
//! structure, TTLV-encoded, is wrapped) or No Encoding (the Key Material
//! bytes alone; a transparent structure cannot be so wrapped: Encoding
//! Option Error). Following the specification, a wrapping key with no
//! Cryptographic Parameters, named by a request with none, is an error.
//! The wrapping key must be Active and allow Wrap Key; its use is audited.

use kms_core::ids::ObjectId;
use kms_core::object::{BlockCipherMode, CryptographicAlgorithm as Alg};
use kms_core::service::WrapScheme;

use super::cipher_plan::{self, Plan};
use super::{Context, fields, parse_id};
use crate::message::attributes::parse;
use crate::message::{OpResult, OperationError};
use crate::ttlv::enums::{EncodingOption, WrappingMethod};
use crate::ttlv::{self, Tag, Ttlv, Value};

/// `object` (the structure a Get returns) with its Key Value wrapped as
/// `spec` asks.
pub async fn wrap(
    ctx: &Context<'_>,
    spec: &Ttlv,
    target: ObjectId,
    object: Ttlv,
) -> OpResult<Ttlv> {
    if spec.child(Tag::ATTRIBUTE_NAME).is_some() {
        return Err(OperationError::FeatureNotSupported(
            "wrapping attributes with the key is not supported".into(),
        ));
    }
    fields(
        spec,
        &[
            Tag::WRAPPING_METHOD,
            Tag::ENCRYPTION_KEY_INFORMATION,
            Tag::MAC_SIGNATURE_KEY_INFORMATION,
            Tag::ENCODING_OPTION,
        ],
    )?;
    let method = WrappingMethod(spec.required(Tag::WRAPPING_METHOD)?.as_enum()?);
    if method != WrappingMethod::ENCRYPT || spec.child(Tag::MAC_SIGNATURE_KEY_INFORMATION).is_some()
    {
        return Err(OperationError::FeatureNotSupported(
            "only the Encrypt wrapping method is supported".into(),
        ));
    }
    let info = spec.required(Tag::ENCRYPTION_KEY_INFORMATION)?;
    fields(
        info,
        &[Tag::UNIQUE_IDENTIFIER, Tag::CRYPTOGRAPHIC_PARAMETERS],
    )?;
    let wrapping_key = parse_id(info.required(Tag::UNIQUE_IDENTIFIER)?.as_text()?)?;
    if wrapping_key == target {
        return Err(OperationError::IllegalOperation(
            "a key cannot be wrapped under itself".into(),
        ));
    }
    let scheme = scheme(ctx, info, wrapping_key).await?;
    let encoding = spec
        .child(Tag::ENCODING_OPTION)
        .map(|e| e.as_enum().map(EncodingOption))
        .transpose()?
        .unwrap_or(EncodingOption::TTLV_ENCODING);
    let Value::Structure(mut parts) = object.value else {
        return Err(OperationError::GeneralFailure(
            "the object is not a structure".into(),
        ));
    };
    let block = parts
        .iter_mut()
        .find(|p| p.tag == Tag::KEY_BLOCK)
        .ok_or_else(|| {
            OperationError::IllegalOperation(
                "only keys and Secret Data have a Key Block to wrap".into(),
            )
        })?;
    let Value::Structure(block_parts) = &mut block.value else {
        return Err(OperationError::GeneralFailure(
            "the Key Block is not a structure".into(),
        ));
    };
    let value = block_parts
        .iter_mut()
        .find(|p| p.tag == Tag::KEY_VALUE)
        .ok_or_else(|| {
            OperationError::KeyValueNotPresent("the Key Block has no Key Value".into())
        })?;
    let plain = encoded(value, encoding)?;
    let wrapped = ctx
        .kms
        .wrap_key_value(ctx.actor, ctx.project(), wrapping_key, &scheme, &plain)
        .await?;
    *value = Ttlv::bytes(Tag::KEY_VALUE, wrapped);
    block_parts.push(Ttlv::structure(
        Tag::KEY_WRAPPING_DATA,
        vec![
            Ttlv::enumeration(Tag::WRAPPING_METHOD, method),
            info.clone(),
            Ttlv::enumeration(Tag::ENCODING_OPTION, encoding),
        ],
    ));
    Ok(Ttlv::structure(object.tag, parts))
}

/// The bytes that get wrapped.
fn encoded(value: &Ttlv, encoding: EncodingOption) -> OpResult<zeroize::Zeroizing<Vec<u8>>> {
    match encoding {
        EncodingOption::TTLV_ENCODING => ttlv::encode(value)
            .map_err(|e| OperationError::GeneralFailure(format!("encoding the Key Value: {e}"))),
        EncodingOption::NO_ENCODING => {
            let material = value.required(Tag::KEY_MATERIAL)?;
            match &material.value {
                Value::ByteString(b) => Ok(zeroize::Zeroizing::new(b.to_vec())),
                _ => Err(OperationError::EncodingOptionError(
                    "a transparent Key Material cannot be wrapped without TTLV encoding".into(),
                )),
            }
        }
        _ => Err(OperationError::EncodingOptionError(
            "the Encoding Option is No Encoding or TTLV Encoding".into(),
        )),
    }
}

async fn scheme(ctx: &Context<'_>, info: &Ttlv, wrapping_key: ObjectId) -> OpResult<WrapScheme> {
    let attrs = ctx.kms.attributes(ctx.project(), wrapping_key).await?;
    let params = match info.child(Tag::CRYPTOGRAPHIC_PARAMETERS) {
        Some(p) => parse::cryptographic_parameters(p)?,
        None => attrs.cryptographic_parameters.clone().ok_or_else(|| {
            OperationError::InvalidField(
                "the wrapping key has no Cryptographic Parameters: name the Block Cipher Mode \
                 (NISTKeyWrap, AESKeyWrapPadding) or the Padding Method (OAEP)"
                    .into(),
            )
        })?,
    };
    match attrs.cryptographic_algorithm {
        Some(Alg::Aes) => match params.block_cipher_mode {
            Some(BlockCipherMode::NistKeyWrap) => Ok(WrapScheme::AesKeyWrap),
            Some(BlockCipherMode::AesKeyWrapPadding) => Ok(WrapScheme::AesKeyWrapPadded),
            _ => Err(OperationError::FeatureNotSupported(
                "AES wrapping keys wrap with NISTKeyWrap or AESKeyWrapPadding".into(),
            )),
        },
        Some(Alg::Rsa) => match cipher_plan::choose(&params, Some(Alg::Rsa), false)? {
            Plan::Rsa(scheme, label) => Ok(WrapScheme::Rsa(scheme, label)),
            _ => Err(OperationError::FeatureNotSupported(
                "RSA wrapping keys wrap with OAEP or PKCS#1 v1.5".into(),
            )),
        },
        _ => Err(OperationError::FeatureNotSupported(
            "wrapping keys are AES or RSA keys".into(),
        )),
    }
}
