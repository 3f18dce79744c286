//! Query (KMIP 1.4 §4.25), every query function the request's version
//! defines:
//!
//! | function | answer |
//! |---|---|
//! | Operations, Objects | what this server implements at that version |
//! | Server Information | Vendor Identification and an empty Server Information |
//! | Application Namespaces, Extension List / Map, Attestation Types | none: no namespaces, no extension tags (custom attributes are `x-` names), no attestation |
//! | RNGs (1.3) | one DRBG: AWS-LC's CTR-DRBG over AES-256 |
//! | Validations (1.3) | none: the server does not run AWS-LC's FIPS module in its validated mode |
//! | Profiles (1.3) | none claimed: the OASIS test vectors this server passes are listed in the README instead |
//! | Capabilities (1.3) | no streaming, no asynchronous operations, no attestation, no batch Undo (1.4), batch Continue (1.4), destroy deletes the key material, per-thread DRBGs |
//! | Client Registration Methods (1.3) | Server Pre-Generated: an operator issues client certificates from the KMIP CA |
//!
//! A function the version does not define is Invalid Field.

use kms_core::object::ObjectType;

use super::{Context, offered, response};
use crate::message::{OpResult, OperationError};
use crate::ttlv::enums::{
    ClientRegistrationMethod, DRBGAlgorithm as DrbgAlgorithm, DestroyAction, QueryFunction,
    RNGAlgorithm as RngAlgorithm, RNGMode as RngMode,
};
use crate::ttlv::{Tag, Ttlv};

pub async fn handle(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    let mut functions = Vec::new();
    for item in payload.as_structure()? {
        if item.tag != Tag::QUERY_FUNCTION {
            return Err(OperationError::InvalidField(format!(
                "Query does not take {}",
                item.tag
            )));
        }
        let f = QueryFunction(item.as_enum()?);
        if ctx.version.minor < introduced(f) {
            return Err(OperationError::InvalidField(format!(
                "{} is not defined in KMIP {}",
                f.kmip_name().unwrap_or("that query function"),
                ctx.version
            )));
        }
        functions.push(f);
    }
    let mut out = Vec::new();
    if functions.contains(&QueryFunction::QUERY_OPERATIONS) {
        out.extend(offered(ctx).map(|op| Ttlv::enumeration(Tag::OPERATION, op)));
    }
    if functions.contains(&QueryFunction::QUERY_OBJECTS) {
        out.extend(
            ObjectType::ALL
                .iter()
                .map(|t| Ttlv::enumeration(Tag::OBJECT_TYPE, t.to_kmip())),
        );
    }
    if functions.contains(&QueryFunction::QUERY_SERVER_INFORMATION) {
        out.push(Ttlv::text(
            Tag::VENDOR_IDENTIFICATION,
            concat!("Strongroom ", env!("CARGO_PKG_VERSION")),
        ));
        // KMIP 1.x leaves the contents of Server Information to the vendor.
        out.push(Ttlv::structure(Tag::SERVER_INFORMATION, Vec::new()));
    }
    if functions.contains(&QueryFunction::QUERY_RN_GS) {
        out.push(Ttlv::structure(
            Tag::RNG_PARAMETERS,
            vec![
                Ttlv::enumeration(Tag::RNG_ALGORITHM, RngAlgorithm::DRBG),
                Ttlv::enumeration(Tag::CRYPTOGRAPHIC_ALGORITHM, 3u32),
                Ttlv::integer(Tag::CRYPTOGRAPHIC_LENGTH, 256),
                Ttlv::enumeration(Tag::DRBG_ALGORITHM, DrbgAlgorithm::CTR),
                Ttlv::boolean(Tag::PREDICTION_RESISTANCE, false),
            ],
        ));
    }
    if functions.contains(&QueryFunction::QUERY_CAPABILITIES) {
        let mut capability = vec![
            Ttlv::boolean(Tag::STREAMING_CAPABILITY, false),
            Ttlv::boolean(Tag::ASYNCHRONOUS_CAPABILITY, false),
            Ttlv::boolean(Tag::ATTESTATION_CAPABILITY, false),
        ];
        if ctx.version.minor >= 4 {
            capability.push(Ttlv::boolean(Tag::BATCH_UNDO_CAPABILITY, false));
            capability.push(Ttlv::boolean(Tag::BATCH_CONTINUE_CAPABILITY, true));
        }
        capability.push(Ttlv::enumeration(
            Tag::DESTROY_ACTION,
            DestroyAction::KEY_MATERIAL_DELETED,
        ));
        capability.push(Ttlv::enumeration(
            Tag::RNG_MODE,
            RngMode::NON_SHARED_INSTANTIATION,
        ));
        out.push(Ttlv::structure(Tag::CAPABILITY_INFORMATION, capability));
    }
    if functions.contains(&QueryFunction::QUERY_CLIENT_REGISTRATION_METHODS) {
        out.push(Ttlv::enumeration(
            Tag::CLIENT_REGISTRATION_METHOD,
            ClientRegistrationMethod::SERVER_PRE_GENERATED,
        ));
    }
    Ok(response(out))
}

/// The minor version of KMIP 1 that defined a query function.
fn introduced(f: QueryFunction) -> i32 {
    match f {
        QueryFunction::QUERY_OPERATIONS
        | QueryFunction::QUERY_OBJECTS
        | QueryFunction::QUERY_SERVER_INFORMATION
        | QueryFunction::QUERY_APPLICATION_NAMESPACES => 0,
        QueryFunction::QUERY_EXTENSION_LIST | QueryFunction::QUERY_EXTENSION_MAP => 1,
        QueryFunction::QUERY_ATTESTATION_TYPES => 2,
        QueryFunction::QUERY_RN_GS
        | QueryFunction::QUERY_VALIDATIONS
        | QueryFunction::QUERY_PROFILES
        | QueryFunction::QUERY_CAPABILITIES
        | QueryFunction::QUERY_CLIENT_REGISTRATION_METHODS => 3,
        _ => i32::MAX,
    }
}
