//! Get Attributes (KMIP 1.4 §4.12): the named attributes, or all of them
//! when none is named. A named attribute the object does not hold is left
//! out of the answer, as the specification says.

use super::{Context, response, uid};
use crate::message::attributes::{names, values};
use crate::message::{OpResult, OperationError};
use crate::ttlv::{Tag, Ttlv};

pub async fn handle(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    let requested = requested_names(ctx, payload)?;
    let id = ctx.object_id(payload)?;
    let attrs = ctx.kms.attributes(ctx.project(), id).await?;
    let wanted = if requested.is_empty() {
        values::held_names(&attrs, ctx.version)
    } else {
        requested
    };
    let mut out = vec![uid(id)];
    for name in &wanted {
        out.extend(values::attributes_named(&attrs, name, ctx.version));
    }
    Ok(response(out))
}

/// The Attribute Names of the payload, each defined in the request's version.
pub fn requested_names(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Vec<String>> {
    let mut out = Vec::new();
    for item in payload.as_structure()? {
        match item.tag {
            Tag::UNIQUE_IDENTIFIER => {}
            Tag::ATTRIBUTE_NAME => {
                let name = item.as_text()?;
                names::check_defined(name, ctx.version)?;
                out.push(name.to_owned());
            }
            other => {
                return Err(OperationError::InvalidField(format!(
                    "the payload does not take {other}"
                )));
            }
        }
    }
    Ok(out)
}
