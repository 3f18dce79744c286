//! Create Key Pair (KMIP 1.4 §4.2): RSA 2048/3072/4096 or ECDSA P-256/384/521.
//! The Common Template-Attribute applies to both keys; the Private and
//! Public Key Template-Attributes to one each.

use kms_core::crypto::keygen::KeySpec;
use kms_core::object::CryptographicAlgorithm as Alg;

use super::{Context, fields, response};
use crate::message::attributes::template;
use crate::message::{OpResult, OperationError};
use crate::ttlv::{Tag, Ttlv};

pub async fn handle(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    fields(
        payload,
        &[
            Tag::COMMON_TEMPLATE_ATTRIBUTE,
            Tag::PRIVATE_KEY_TEMPLATE_ATTRIBUTE,
            Tag::PUBLIC_KEY_TEMPLATE_ATTRIBUTE,
        ],
    )?;
    let read = |tag| template::read(payload.child(tag), ctx.version);
    let common = read(Tag::COMMON_TEMPLATE_ATTRIBUTE)?;
    let private: Vec<_> = common
        .iter()
        .cloned()
        .chain(read(Tag::PRIVATE_KEY_TEMPLATE_ATTRIBUTE)?)
        .collect();
    let public: Vec<_> = common
        .iter()
        .cloned()
        .chain(read(Tag::PUBLIC_KEY_TEMPLATE_ATTRIBUTE)?)
        .collect();
    let private = template::parts(ctx.project(), &private)?;
    let public = template::parts(ctx.project(), &public)?;
    let algorithm = private.algorithm.or(public.algorithm);
    let length = private.length.or(public.length);
    if disagree(private.algorithm, public.algorithm) || disagree(private.length, public.length) {
        return Err(OperationError::InvalidField(
            "the private and public templates disagree on algorithm or length".into(),
        ));
    }
    let spec = pair_spec(algorithm, length)?;
    let pair = ctx
        .kms
        .create_key_pair(
            ctx.actor,
            ctx.project(),
            spec,
            private.template,
            public.template,
        )
        .await?;
    ctx.set_placeholder(pair.private_key);
    Ok(response(vec![
        Ttlv::text(
            Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER,
            pair.private_key.to_string(),
        ),
        Ttlv::text(
            Tag::PUBLIC_KEY_UNIQUE_IDENTIFIER,
            pair.public_key.to_string(),
        ),
    ]))
}

/// Both given and different.
fn disagree<T: PartialEq>(a: Option<T>, b: Option<T>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a != b)
}

fn pair_spec(algorithm: Option<Alg>, length: Option<u32>) -> OpResult<KeySpec> {
    match (algorithm, length) {
        (Some(Alg::Rsa), Some(2048)) => Ok(KeySpec::Rsa2048),
        (Some(Alg::Rsa), Some(3072)) => Ok(KeySpec::Rsa3072),
        (Some(Alg::Rsa), Some(4096)) => Ok(KeySpec::Rsa4096),
        (Some(Alg::Ecdsa | Alg::Ec), Some(256)) => Ok(KeySpec::EcP256),
        (Some(Alg::Ecdsa | Alg::Ec), Some(384)) => Ok(KeySpec::EcP384),
        (Some(Alg::Ecdsa | Alg::Ec), Some(521)) => Ok(KeySpec::EcP521),
        (None, _) => Err(OperationError::InvalidField(
            "Create Key Pair needs a Cryptographic Algorithm".into(),
        )),
        (Some(alg), len) => Err(OperationError::InvalidField(format!(
            "cannot create a {alg} key pair of length {}; RSA 2048/3072/4096 and ECDSA 256/384/521 are supported",
            len.map_or_else(|| "(unspecified)".to_owned(), |l| l.to_string())
        ))),
    }
}
