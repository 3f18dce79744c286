//! # Operations — one file per KMIP operation
//!
//! Each file has `handle(ctx, payload) -> Result<response payload,
//! OperationError>`: it reads the Request Payload, calls
//! [`kms_core::service::Kms`] (so the lifecycle, the key hierarchy, HSM
//! resident keys and the audit log apply), and builds the Response Payload.
//! [`dispatch`] refuses an operation this server does not implement or the
//! request's version does not define (Operation Not Supported), then one
//! the client is not permitted (Permission Denied).
//!
//! Objects are always looked up in the client's project; another
//! project's object is Item Not Found. The audit actor is the client's
//! name with its peer address.
//!
//! Within one message, an operation that creates or names an object sets
//! the ID Placeholder (KMIP 1.4 §3.1), which a later batch item uses when
//! it omits the Unique Identifier.

mod activate;
mod add_attribute;
mod archive;
mod asynchronous;
mod by_parts;
mod certify;
mod check;
mod cipher_plan;
mod create;
mod create_key_pair;
mod crypto_params;
mod decrypt;
mod delete_attribute;
mod derive_key;
mod destroy;
mod discover_versions;
mod ec_formats;
mod edit_common;
mod encrypt;
mod formats;
mod get;
mod get_attribute_list;
mod get_attributes;
mod hash;
mod key_block;
mod lease;
mod locate;
mod mac;
mod mac_verify;
mod modify_attribute;
mod query;
mod recover;
mod register;
mod rekey;
mod rekey_key_pair;
mod revoke;
mod rng_retrieve;
mod rng_seed;
mod sign;
mod signature_verify;
mod transparent_rsa;
mod wrapping;

use std::sync::Mutex;

use kms_core::ids::ObjectId;
use kms_core::service::{Actor, Kms};

use crate::client::KmipClient;
use crate::message::{OpResult, OperationError, ProtocolVersion, check_fields};
use crate::ttlv::enums::Operation;
use crate::ttlv::{Tag, Ttlv};

/// What an operation needs besides its payload.
pub struct Context<'a> {
    pub kms: &'a Kms,
    pub client: &'a KmipClient,
    pub actor: &'a Actor,
    /// The version the request is processed at.
    pub version: ProtocolVersion,
    /// The CA behind Certify, if the server was given one.
    pub certifier: Option<&'a dyn crate::certify::Certifier>,
    /// Multi-part Encrypt/Decrypt in progress; without it they are refused.
    pub streams: Option<&'a crate::streams::StreamTable>,
    id_placeholder: Mutex<Option<ObjectId>>,
}

impl<'a> Context<'a> {
    pub fn new(
        kms: &'a Kms,
        client: &'a KmipClient,
        actor: &'a Actor,
        version: ProtocolVersion,
    ) -> Self {
        Self {
            kms,
            client,
            actor,
            version,
            certifier: None,
            streams: None,
            id_placeholder: Mutex::new(None),
        }
    }

    pub fn project(&self) -> kms_core::ids::ProjectId {
        self.client.project
    }

    /// The object a payload names: its Unique Identifier, or the ID
    /// Placeholder when it has none.
    pub fn object_id(&self, payload: &Ttlv) -> OpResult<ObjectId> {
        self.object_id_in(payload, Tag::UNIQUE_IDENTIFIER)
    }

    /// Like [`Context::object_id`] for a field other than Unique Identifier
    /// (Private Key Unique Identifier, say).
    pub fn object_id_in(&self, payload: &Ttlv, tag: Tag) -> OpResult<ObjectId> {
        match payload.child(tag) {
            Some(item) => parse_id(item.as_text()?),
            None => self.placeholder().ok_or_else(|| {
                OperationError::MissingData("no Unique Identifier and no ID Placeholder".into())
            }),
        }
    }

    fn placeholder(&self) -> Option<ObjectId> {
        *self
            .id_placeholder
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Sets the ID Placeholder for the following batch items.
    pub fn set_placeholder(&self, id: ObjectId) {
        *self
            .id_placeholder
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(id);
    }

    /// Empties the ID Placeholder (a failed Check).
    pub fn clear_placeholder(&self) {
        *self
            .id_placeholder
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Refuses a payload field the request's version does not define.
    pub fn since(&self, payload: &Ttlv, tag: Tag, minor: i32) -> OpResult<()> {
        if payload.child(tag).is_some() && self.version.minor < minor {
            return Err(OperationError::InvalidField(format!(
                "{tag} is not defined in KMIP {}",
                self.version
            )));
        }
        Ok(())
    }
}

/// An identifier this server never issued cannot name an object.
pub fn parse_id(text: &str) -> OpResult<ObjectId> {
    text.parse()
        .map_err(|_| OperationError::ItemNotFound(format!("no object {text:?}")))
}

pub fn uid(id: ObjectId) -> Ttlv {
    Ttlv::text(Tag::UNIQUE_IDENTIFIER, id.to_string())
}

pub fn response(children: Vec<Ttlv>) -> Ttlv {
    Ttlv::structure(Tag::RESPONSE_PAYLOAD, children)
}

/// The Object Type of a request. Split Keys, Templates (deprecated since
/// KMIP 1.3) and PGP Keys are object types this server does not keep:
/// Feature Not Supported, as KMIP answers a defined feature a server lacks.
pub fn object_type(item: &Ttlv) -> OpResult<kms_core::object::ObjectType> {
    const SPLIT_KEY: u32 = 5;
    const TEMPLATE: u32 = 6;
    const PGP_KEY: u32 = 9;
    match item.as_enum()? {
        t @ (SPLIT_KEY | TEMPLATE | PGP_KEY) => Err(OperationError::FeatureNotSupported(format!(
            "{} objects are not supported",
            crate::ttlv::enums::ObjectType(t)
                .kmip_name()
                .unwrap_or("such")
        ))),
        _ => {
            crate::message::attributes::parse::known(item, kms_core::object::ObjectType::from_kmip)
        }
    }
}

/// Refuses unknown or repeated fields in a Request Payload.
pub fn fields(payload: &Ttlv, allowed: &[Tag]) -> OpResult<()> {
    check_fields(payload, allowed)
}

/// The operations this server implements, with the minor version of KMIP
/// 1 that introduced each.
pub const SUPPORTED: &[(Operation, i32)] = &[
    (Operation::CREATE, 0),
    (Operation::CREATE_KEY_PAIR, 0),
    (Operation::REGISTER, 0),
    (Operation::LOCATE, 0),
    (Operation::CHECK, 0),
    (Operation::GET, 0),
    (Operation::GET_ATTRIBUTES, 0),
    (Operation::GET_ATTRIBUTE_LIST, 0),
    (Operation::ADD_ATTRIBUTE, 0),
    (Operation::MODIFY_ATTRIBUTE, 0),
    (Operation::DELETE_ATTRIBUTE, 0),
    (Operation::ACTIVATE, 0),
    (Operation::REVOKE, 0),
    (Operation::DESTROY, 0),
    (Operation::QUERY, 0),
    (Operation::RE_KEY, 0),
    (Operation::DERIVE_KEY, 0),
    (Operation::CERTIFY, 0),
    (Operation::OBTAIN_LEASE, 0),
    (Operation::GET_USAGE_ALLOCATION, 0),
    (Operation::ARCHIVE, 0),
    (Operation::RECOVER, 0),
    (Operation::CANCEL, 0),
    (Operation::POLL, 0),
    (Operation::RE_KEY_KEY_PAIR, 1),
    (Operation::DISCOVER_VERSIONS, 1),
    (Operation::ENCRYPT, 2),
    (Operation::DECRYPT, 2),
    (Operation::SIGN, 2),
    (Operation::SIGNATURE_VERIFY, 2),
    (Operation::MAC, 2),
    (Operation::MAC_VERIFY, 2),
    (Operation::RNG_RETRIEVE, 2),
    (Operation::HASH, 2),
    (Operation::RNG_SEED, 2),
];

/// Every implemented operation, for permission sets.
pub const IMPLEMENTED: &[Operation] = &[
    Operation::CREATE,
    Operation::CREATE_KEY_PAIR,
    Operation::REGISTER,
    Operation::LOCATE,
    Operation::CHECK,
    Operation::GET,
    Operation::GET_ATTRIBUTES,
    Operation::GET_ATTRIBUTE_LIST,
    Operation::ADD_ATTRIBUTE,
    Operation::MODIFY_ATTRIBUTE,
    Operation::DELETE_ATTRIBUTE,
    Operation::ACTIVATE,
    Operation::REVOKE,
    Operation::DESTROY,
    Operation::QUERY,
    Operation::RE_KEY,
    Operation::RE_KEY_KEY_PAIR,
    Operation::DERIVE_KEY,
    Operation::CERTIFY,
    Operation::OBTAIN_LEASE,
    Operation::GET_USAGE_ALLOCATION,
    Operation::ARCHIVE,
    Operation::RECOVER,
    Operation::CANCEL,
    Operation::POLL,
    Operation::DISCOVER_VERSIONS,
    Operation::ENCRYPT,
    Operation::DECRYPT,
    Operation::SIGN,
    Operation::SIGNATURE_VERIFY,
    Operation::MAC,
    Operation::MAC_VERIFY,
    Operation::RNG_RETRIEVE,
    Operation::HASH,
    Operation::RNG_SEED,
];

/// The operations `version` defines that this server implements.
pub fn supported_in(version: ProtocolVersion) -> impl Iterator<Item = Operation> {
    SUPPORTED
        .iter()
        .filter(move |(_, minor)| *minor <= version.minor)
        .map(|(op, _)| *op)
}

/// The operations this server offers a request: those its version
/// defines that are implemented, without Certify when no CA was given.
pub fn offered<'c>(ctx: &'c Context<'_>) -> impl Iterator<Item = Operation> + 'c {
    supported_in(ctx.version).filter(|op| *op != Operation::CERTIFY || ctx.certifier.is_some())
}

/// Runs one batch item.
pub async fn dispatch(ctx: &Context<'_>, operation: Operation, payload: &Ttlv) -> OpResult<Ttlv> {
    let name = operation
        .kmip_name()
        .map_or_else(|| format!("operation {:#x}", operation.0), str::to_owned);
    if !offered(ctx).any(|op| op == operation) {
        return Err(OperationError::OperationNotSupported(format!(
            "{name} is not supported in KMIP {}",
            ctx.version
        )));
    }
    if !ctx.client.may(operation) {
        return Err(OperationError::PermissionDenied(format!(
            "client {} may not use {name}",
            ctx.client.name
        )));
    }
    match operation {
        Operation::CREATE => create::handle(ctx, payload).await,
        Operation::CREATE_KEY_PAIR => create_key_pair::handle(ctx, payload).await,
        Operation::REGISTER => register::handle(ctx, payload).await,
        Operation::LOCATE => locate::handle(ctx, payload).await,
        Operation::CHECK => check::handle(ctx, payload).await,
        Operation::GET => get::handle(ctx, payload).await,
        Operation::GET_ATTRIBUTES => get_attributes::handle(ctx, payload).await,
        Operation::GET_ATTRIBUTE_LIST => get_attribute_list::handle(ctx, payload).await,
        Operation::ADD_ATTRIBUTE => add_attribute::handle(ctx, payload).await,
        Operation::MODIFY_ATTRIBUTE => modify_attribute::handle(ctx, payload).await,
        Operation::DELETE_ATTRIBUTE => delete_attribute::handle(ctx, payload).await,
        Operation::ACTIVATE => activate::handle(ctx, payload).await,
        Operation::REVOKE => revoke::handle(ctx, payload).await,
        Operation::DESTROY => destroy::handle(ctx, payload).await,
        Operation::QUERY => query::handle(ctx, payload).await,
        Operation::RE_KEY => rekey::handle(ctx, payload).await,
        Operation::DERIVE_KEY => derive_key::handle(ctx, payload).await,
        Operation::CERTIFY => certify::handle(ctx, payload).await,
        Operation::OBTAIN_LEASE => lease::obtain_lease(ctx, payload).await,
        Operation::GET_USAGE_ALLOCATION => lease::get_usage_allocation(ctx, payload).await,
        Operation::ARCHIVE => archive::handle(ctx, payload).await,
        Operation::RECOVER => recover::handle(ctx, payload).await,
        Operation::CANCEL => asynchronous::cancel(ctx, payload).await,
        Operation::POLL => asynchronous::poll(ctx, payload).await,
        Operation::RE_KEY_KEY_PAIR => rekey_key_pair::handle(ctx, payload).await,
        Operation::DISCOVER_VERSIONS => discover_versions::handle(ctx, payload).await,
        Operation::ENCRYPT => encrypt::handle(ctx, payload).await,
        Operation::DECRYPT => decrypt::handle(ctx, payload).await,
        Operation::SIGN => sign::handle(ctx, payload).await,
        Operation::SIGNATURE_VERIFY => signature_verify::handle(ctx, payload).await,
        Operation::MAC => mac::handle(ctx, payload).await,
        Operation::MAC_VERIFY => mac_verify::handle(ctx, payload).await,
        Operation::RNG_RETRIEVE => rng_retrieve::handle(ctx, payload).await,
        Operation::HASH => hash::handle(ctx, payload).await,
        Operation::RNG_SEED => rng_seed::handle(ctx, payload).await,
        _ => Err(OperationError::OperationNotSupported(name)),
    }
}
