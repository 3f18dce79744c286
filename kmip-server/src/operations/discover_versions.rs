//! Discover Versions (KMIP 1.4 §4.26): the versions both sides speak, in
//! the server's order of preference; all of ours when the client lists
//! none.

use super::{Context, response};
use crate::message::{OpResult, OperationError, ProtocolVersion};
use crate::ttlv::{Tag, Ttlv};

pub async fn handle(_ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    let mut offered = Vec::new();
    for item in payload.as_structure()? {
        if item.tag != Tag::PROTOCOL_VERSION {
            return Err(OperationError::InvalidField(format!(
                "Discover Versions does not take {}",
                item.tag
            )));
        }
        offered.push(ProtocolVersion::from_ttlv(item)?);
    }
    let common = ProtocolVersion::SUPPORTED
        .into_iter()
        .filter(|v| offered.is_empty() || offered.contains(v))
        .map(ProtocolVersion::to_ttlv)
        .collect();
    Ok(response(common))
}
