//! Query (KMIP 1.4 §4.25): the operations and object types this server
//! supports at the request's version, and who it is. Other query functions
//! are answered with nothing, which the specification allows.

use kms_core::object::ObjectType;

use super::{Context, response, supported_in};
use crate::message::{OpResult, OperationError};
use crate::ttlv::enums::QueryFunction;
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
        functions.push(QueryFunction(item.as_enum()?));
    }
    let mut out = Vec::new();
    if functions.contains(&QueryFunction::QUERY_OPERATIONS) {
        out.extend(supported_in(ctx.version).map(|op| Ttlv::enumeration(Tag::OPERATION, op)));
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
    Ok(response(out))
}
