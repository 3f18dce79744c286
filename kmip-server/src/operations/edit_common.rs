//! The part Add, Modify and Delete Attribute share: apply one edit through
//! `Kms::modify_attributes`, keeping our error rather than kms-core's.

use std::sync::Mutex;

use kms_core::object::Attributes;

use super::Context;
use crate::message::{OpResult, OperationError};

/// Applies `edit` to the object's attributes in one audited change.
pub async fn apply<T: Send>(
    ctx: &Context<'_>,
    id: kms_core::ids::ObjectId,
    edit: impl FnOnce(&mut Attributes) -> OpResult<T> + Send,
) -> OpResult<(T, Attributes)> {
    // kms-core's closure returns a kms-core error; the KMIP reason is kept
    // aside so the client gets the precise one.
    let ours: Mutex<Option<OperationError>> = Mutex::new(None);
    let mut result = None;
    let outcome = ctx
        .kms
        .modify_attributes(ctx.actor, ctx.project(), id, |a| match edit(a) {
            Ok(v) => {
                result = Some(v);
                Ok(())
            }
            Err(e) => {
                let text = e.to_string();
                *ours.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                Err(kms_core::Error::InvalidRequest(text))
            }
        })
        .await;
    if let Some(e) = ours.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    let after = outcome?;
    let value =
        result.ok_or_else(|| OperationError::GeneralFailure("the edit did not run".into()))?;
    Ok((value, after))
}
