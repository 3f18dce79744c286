//! The crates.io `kmip-protocol` client against the live listener. Its
//! connection layer needs one of its own TLS stacks (rustls 0.19 or
//! OpenSSL), so its message layer is used over our tokio-rustls stream:
//! `request::to_vec` serializes each request and `response::from_slice`
//! parses the answer into its typed response. Query, Create, Activate,
//! Get, Locate, RNG Retrieve, Revoke, Destroy.

mod common;

use common::*;
use kmip_protocol::request::to_vec;
use kmip_protocol::response::from_slice;
use kmip_protocol::types::common::{
    CryptographicAlgorithm, CryptographicUsageMask, DataLength, ObjectType, Operation,
    RevocationReasonCode,
};
use kmip_protocol::types::request::{
    Attribute, QueryFunction, RequestPayload, RevocationReason, TemplateAttribute,
};
use kmip_protocol::types::response::{ResponseMessage, ResponsePayload, ResultStatus};
use kmip_server::listener::ListenerLimits;
use kmip_server::ttlv::{self, Limits};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// Sends one request as the crate serializes it; returns its typed payload.
async fn call(
    stream: &mut TlsStream<TcpStream>,
    request: RequestPayload,
) -> Result<ResponsePayload, String> {
    let bytes = to_vec(request, None).map_err(|e| e.to_string())?;
    stream.write_all(&bytes).await.map_err(|e| e.to_string())?;
    let raw = tokio::time::timeout(TIMEOUT, ttlv::read_message(stream, &Limits::DEFAULT))
        .await
        .map_err(|_| "timed out".to_owned())?
        .map_err(|e| e.to_string())?
        .ok_or("closed")?;
    let mut message: ResponseMessage = from_slice(&raw).map_err(|e| e.to_string())?;
    let item = message.batch_items.pop().ok_or("no batch item")?;
    match item.result_status {
        ResultStatus::Success => item.payload.ok_or_else(|| "no payload".to_owned()),
        _ => Err(format!(
            "{:?}: {:?}",
            item.result_reason, item.result_message
        )),
    }
}

#[tokio::test]
async fn create_get_locate_with_kmip_protocol() {
    let env = Env::new().await;
    let server = env.start(ListenerLimits::DEFAULT).await;
    let mut c = env.connect(&server, Some(&env.alice)).await.unwrap();

    let query = RequestPayload::Query(vec![
        QueryFunction::QueryOperations,
        QueryFunction::QueryObjects,
    ]);
    let Ok(ResponsePayload::Query(q)) = call(&mut c, query).await else {
        panic!("query failed");
    };
    let ops = q.operations.expect("operations listed");
    assert!(ops.contains(&Operation::Create) && ops.contains(&Operation::Locate));

    let create = RequestPayload::Create(
        ObjectType::SymmetricKey,
        TemplateAttribute::unnamed(vec![
            Attribute::CryptographicAlgorithm(CryptographicAlgorithm::AES),
            Attribute::CryptographicLength(256),
            Attribute::CryptographicUsageMask(CryptographicUsageMask::Encrypt),
            Attribute::Name("interop-key".into()),
        ]),
    );
    let created = match call(&mut c, create).await {
        Ok(ResponsePayload::Create(created)) => created,
        other => panic!("create: {other:?}"),
    };
    assert_eq!(created.object_type, ObjectType::SymmetricKey);
    let id = created.unique_identifier.clone();

    let activated = call(&mut c, RequestPayload::Activate(Some(id.clone()))).await;
    assert!(
        matches!(activated, Ok(ResponsePayload::Activate(_))),
        "{activated:?}"
    );

    let get = RequestPayload::Get(Some(id.clone()), None, None, None);
    match call(&mut c, get).await {
        Ok(ResponsePayload::Get(got)) => {
            assert_eq!(got.unique_identifier, id);
            assert_eq!(got.object_type, ObjectType::SymmetricKey);
        }
        other => panic!("get: {other:?}"),
    }

    let locate = RequestPayload::Locate(vec![Attribute::Name("interop-key".into())]);
    match call(&mut c, locate).await {
        Ok(ResponsePayload::Locate(found)) => {
            assert_eq!(found.unique_identifiers, vec![id.clone()])
        }
        other => panic!("locate: {other:?}"),
    }
    let locate = RequestPayload::Locate(vec![Attribute::Name("no-such-key".into())]);
    match call(&mut c, locate).await {
        Ok(ResponsePayload::Locate(found)) => assert!(found.unique_identifiers.is_empty()),
        other => panic!("locate: {other:?}"),
    }

    match call(&mut c, RequestPayload::RNGRetrieve(DataLength(32))).await {
        Ok(ResponsePayload::RNGRetrieve(r)) => assert_eq!(r.data.len(), 32),
        other => panic!("rng retrieve: {other:?}"),
    }

    let revoke = RequestPayload::Revoke(
        Some(id.clone()),
        RevocationReason(RevocationReasonCode::CessationOfOperation, None),
        None,
    );
    assert!(call(&mut c, revoke).await.is_ok());
    assert!(
        call(&mut c, RequestPayload::Destroy(Some(id.clone())))
            .await
            .is_ok()
    );
    let get = RequestPayload::Get(Some(id), None, None, None);
    assert!(
        call(&mut c, get).await.is_err(),
        "a destroyed key was served"
    );
    server.shutdown().await;
}
