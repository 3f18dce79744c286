//! Hostile peers over the live listener: every limit, malformed input,
//! refused certificates, and another client served throughout.

mod common;

use std::time::{Duration, Instant};

use common::reasons::*;
use common::*;
use kmip_server::listener::{Handler, ListenerLimits};
use kmip_server::streams::StreamLimits;
use kmip_server::ttlv::enums::Operation as Op;
use kmip_server::ttlv::{self, Limits, Tag, Ttlv};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SHORT: Duration = Duration::from_millis(400);

fn tight() -> ListenerLimits {
    ListenerLimits {
        max_connections: 8,
        handshake_timeout: SHORT,
        idle_timeout: Duration::from_secs(2),
        read_timeout: SHORT,
        write_timeout: SHORT,
        message: Limits::DEFAULT,
        max_batch_count: 4,
        streams: StreamLimits {
            per_client: 1,
            total: 2,
            stream_bytes: 4096,
            total_bytes: 8192,
            idle: SHORT,
        },
    }
}

#[tokio::test]
async fn stream_limits_reach_the_processor() {
    let env = Env::new().await;
    let handler = Handler::new(env.kms.clone(), env.directory.clone(), &tight());
    assert_eq!(handler.processor.streams().limits(), tight().streams);
}

/// Waits until the peer closes; returns how long that took, or None if it
/// stayed open for `within`.
async fn closed_within<S: AsyncRead + Unpin>(stream: &mut S, within: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 256];
    loop {
        match tokio::time::timeout(
            within.saturating_sub(start.elapsed()),
            stream.read(&mut buf),
        )
        .await
        {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) => continue,
        }
    }
}

/// The good client still gets answers.
async fn still_serving(env: &Env, server: &Server) {
    let mut c = env
        .connect(server, Some(&env.alice))
        .await
        .expect("connect");
    let item = one(&mut c, 4, Op::DISCOVER_VERSIONS, vec![]).await;
    payload(&item);
}

#[tokio::test]
async fn stalled_oversized_and_malformed_messages() {
    let env = Env::new().await;
    let server = env.start(tight()).await;

    // A message cut short, then silence: dropped after the read timeout.
    let mut c = env.connect(&server, Some(&env.alice)).await.unwrap();
    let full = ttlv::encode(&request(4, vec![(Op::DISCOVER_VERSIONS, vec![])])).unwrap();
    c.write_all(&full[..full.len() / 2]).await.unwrap();
    c.flush().await.unwrap();
    let took = closed_within(&mut c, Duration::from_secs(5))
        .await
        .expect("stalled client dropped");
    assert!(
        took >= SHORT - Duration::from_millis(50),
        "dropped too early: {took:?}"
    );
    still_serving(&env, &server).await;

    // 4 GiB declared: dropped from the header alone, nothing answered.
    let mut c = env.connect(&server, Some(&env.alice)).await.unwrap();
    c.write_all(&[0x42, 0x00, 0x78, 0x01, 0xFF, 0xFF, 0xFF, 0xF8])
        .await
        .unwrap();
    c.flush().await.unwrap();
    let took = closed_within(&mut c, Duration::from_secs(5))
        .await
        .expect("4 GiB message dropped");
    assert!(took < SHORT, "should be refused at once, took {took:?}");

    // Framed but not decodable: answered with Invalid Message, and the
    // connection stays usable.
    let mut c = env.connect(&server, Some(&env.alice)).await.unwrap();
    let mut deep = Ttlv::integer(Tag::BATCH_COUNT, 1);
    for _ in 0..40 {
        deep = Ttlv::structure(Tag::REQUEST_PAYLOAD, vec![deep]);
    }
    let deep = request(4, vec![(Op::QUERY, vec![deep])]);
    let response = send(&mut c, &deep).await;
    assert_eq!(reason(items(&response)[0]), Some(INVALID_MESSAGE));
    assert_eq!(response_version(&response), (1, 4));

    // A tag whose first byte is neither 0x42 nor 0x54, in a 1.1 message:
    // the response still speaks 1.1.
    let mut bytes = ttlv::encode(&request(
        1,
        vec![(Op::QUERY, vec![Ttlv::integer(Tag::BATCH_COUNT, 1)])],
    ))
    .unwrap()
    .to_vec();
    let at = bytes.len() - 16;
    bytes[at] = 0x43;
    let response = send_raw(&mut c, &bytes).await.unwrap();
    assert_eq!(reason(items(&response)[0]), Some(INVALID_MESSAGE));
    assert_eq!(response_version(&response), (1, 1));
    assert!(items(&response)[0].child(Tag::OPERATION).is_none());

    // Wrong item types: the header's Batch Count as text fails the message;
    // an Operation as an Integer fails its item only.
    let mut bad = request(4, vec![(Op::QUERY, vec![])]);
    if let ttlv::Value::Structure(children) = &mut bad.value {
        children[0] = Ttlv::structure(
            Tag::REQUEST_HEADER,
            vec![version(1, 4), Ttlv::text(Tag::BATCH_COUNT, "one")],
        );
    }
    let response = send(&mut c, &bad).await;
    assert_eq!(reason(items(&response)[0]), Some(INVALID_MESSAGE));
    let mut bad = request(
        4,
        vec![(Op::QUERY, vec![]), (Op::DISCOVER_VERSIONS, vec![])],
    );
    if let ttlv::Value::Structure(children) = &mut bad.value {
        if let ttlv::Value::Structure(item) = &mut children[1].value {
            item[0] = Ttlv::integer(Tag::OPERATION, 0x18);
        }
    }
    let cont = Ttlv::enumeration(Tag::BATCH_ERROR_CONTINUATION_OPTION, 1u32);
    if let ttlv::Value::Structure(children) = &mut bad.value {
        if let ttlv::Value::Structure(h) = &mut children[0].value {
            h.insert(1, cont);
        }
    }
    let response = send(&mut c, &bad).await;
    let all = items(&response);
    assert_eq!(reason(all[0]), Some(INVALID_MESSAGE));
    assert_eq!(bytes_of(all[0], Tag::UNIQUE_BATCH_ITEM_ID), vec![1]);
    assert_eq!(status(all[1]), 0);

    // Unknown fields: in a payload (same version: Invalid Field, §11.1), and
    // an extension tag in the header.
    let item = one(
        &mut c,
        4,
        Op::DISCOVER_VERSIONS,
        vec![Ttlv::text(Tag(0x540001), "x")],
    )
    .await;
    assert_eq!(reason(&item), Some(INVALID_FIELD));
    let item = one(
        &mut c,
        4,
        Op::ACTIVATE,
        vec![uid("x"), Ttlv::text(Tag::NAME_VALUE, "x")],
    )
    .await;
    assert_eq!(reason(&item), Some(INVALID_FIELD));
    // Not a request at all.
    let response = send(&mut c, &Ttlv::structure(Tag::RESPONSE_MESSAGE, vec![])).await;
    assert_eq!(reason(items(&response)[0]), Some(INVALID_MESSAGE));
    // More batch items than the limit.
    let many = (0..5).map(|_| (Op::DISCOVER_VERSIONS, vec![])).collect();
    let response = send(&mut c, &request(4, many)).await;
    assert_eq!(reason(items(&response)[0]), Some(INVALID_MESSAGE));
    // Still the same connection, still answering.
    payload(&one(&mut c, 4, Op::DISCOVER_VERSIONS, vec![]).await);

    // A message over the configured size (but under 4 GiB) is dropped too.
    let big = request(
        4,
        vec![(Op::HASH, vec![Ttlv::bytes(Tag::DATA, vec![0u8; 2 << 20])])],
    );
    let bytes = ttlv::encode(&big).unwrap();
    let _ = c.write_all(&bytes[..64]).await;
    let _ = c.flush().await;
    closed_within(&mut c, Duration::from_secs(5))
        .await
        .expect("oversized message dropped");
    still_serving(&env, &server).await;
    server.shutdown().await;
}

#[tokio::test]
async fn handshake_refusals_and_timeouts() {
    let env = Env::new().await;
    let server = env.start(tight()).await;

    for (who, label) in [
        (None, "no certificate"),
        (Some(&env.foreign), "another CA"),
        (Some(&env.revoked), "revoked"),
        (Some(&env.stranger), "unknown client"),
    ] {
        // In TLS 1.3 the refusal of a client certificate reaches the client
        // after its side of the handshake: try a request.
        let refused = match env.connect(&server, who).await {
            Err(_) => true,
            Ok(mut c) => {
                let bytes =
                    ttlv::encode(&request(4, vec![(Op::DISCOVER_VERSIONS, vec![])])).unwrap();
                send_raw(&mut c, &bytes).await.is_err()
            }
        };
        assert!(refused, "{label} was served");
    }

    // Silence instead of a ClientHello: closed after the handshake timeout.
    let mut tcp = TcpStream::connect(server.addr).await.unwrap();
    let took = closed_within(&mut tcp, Duration::from_secs(5))
        .await
        .expect("silent peer dropped");
    assert!(took >= SHORT - Duration::from_millis(50), "{took:?}");

    // Idle between messages: closed after the idle timeout.
    let mut c = env.connect(&server, Some(&env.alice)).await.unwrap();
    payload(&one(&mut c, 4, Op::DISCOVER_VERSIONS, vec![]).await);
    let took = closed_within(&mut c, Duration::from_secs(10))
        .await
        .expect("idle client dropped");
    assert!(took >= Duration::from_millis(1900), "{took:?}");
    still_serving(&env, &server).await;
    server.shutdown().await;
}

#[tokio::test]
async fn new_crl_applies_to_new_handshakes() {
    let env = Env::new().await;
    let server = env.start(tight()).await;
    let mut before = env.connect(&server, Some(&env.bob)).await.unwrap();
    payload(&one(&mut before, 4, Op::DISCOVER_VERSIONS, vec![]).await);

    let crl = env.crl(&[&env.revoked, &env.bob]).await;
    server.tls.send(env.server_config(&crl)).unwrap();

    let refused = match env.connect(&server, Some(&env.bob)).await {
        Err(_) => true,
        Ok(mut c) => {
            let bytes = ttlv::encode(&request(4, vec![(Op::DISCOVER_VERSIONS, vec![])])).unwrap();
            send_raw(&mut c, &bytes).await.is_err()
        }
    };
    assert!(refused, "a client revoked by the new CRL was served");
    // Its open connection was authenticated under the old CRL and lives on;
    // others are unaffected.
    payload(&one(&mut before, 4, Op::DISCOVER_VERSIONS, vec![]).await);
    still_serving(&env, &server).await;
    server.shutdown().await;
}

#[tokio::test]
async fn connection_limit() {
    let env = Env::new().await;
    let limits = ListenerLimits {
        max_connections: 2,
        ..tight()
    };
    let server = env.start(limits).await;
    let mut first = env.connect(&server, Some(&env.alice)).await.unwrap();
    let mut second = env.connect(&server, Some(&env.bob)).await.unwrap();
    payload(&one(&mut first, 4, Op::DISCOVER_VERSIONS, vec![]).await);
    payload(&one(&mut second, 4, Op::DISCOVER_VERSIONS, vec![]).await);

    // The third is closed as soon as it is accepted.
    let third = env.connect(&server, Some(&env.alice)).await;
    let served = match third {
        Err(_) => false,
        Ok(mut c) => {
            let bytes = ttlv::encode(&request(4, vec![(Op::DISCOVER_VERSIONS, vec![])])).unwrap();
            send_raw(&mut c, &bytes).await.is_ok()
        }
    };
    assert!(!served, "a connection over the limit was served");
    payload(&one(&mut first, 4, Op::DISCOVER_VERSIONS, vec![]).await);

    // A freed slot is usable again.
    drop(second);
    let mut again = None;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if let Ok(mut c) = env.connect(&server, Some(&env.bob)).await {
            let bytes = ttlv::encode(&request(4, vec![(Op::DISCOVER_VERSIONS, vec![])])).unwrap();
            if send_raw(&mut c, &bytes).await.is_ok() {
                again = Some(c);
                break;
            }
        }
    }
    assert!(again.is_some(), "the freed slot was never reused");
    server.shutdown().await;
}

#[tokio::test]
async fn many_requests_on_one_connection_in_order() {
    let env = Env::new().await;
    let server = env.start(ListenerLimits::DEFAULT).await;
    let mut c = env.connect(&server, Some(&env.alice)).await.unwrap();
    // Pipelined: all requests written before any response is read.
    let mut sizes = Vec::new();
    for n in 1..=20 {
        let req = request(
            4,
            vec![(Op::RNG_RETRIEVE, vec![Ttlv::integer(Tag::DATA_LENGTH, n)])],
        );
        c.write_all(&ttlv::encode(&req).unwrap()).await.unwrap();
        sizes.push(n as usize);
    }
    c.flush().await.unwrap();
    for n in sizes {
        let response = receive(&mut c).await.unwrap();
        assert_eq!(bytes_of(payload(items(&response)[0]), Tag::DATA).len(), n);
    }
    server.shutdown().await;
}
