//! The OASIS KMIP test vectors (XML) run against the processor with a real
//! `Kms`: each request is bound (identifiers, times and data the server
//! returned earlier), encoded to TTLV and processed; each response must
//! match the expected one in shape: batch count, and per item Operation,
//! Result Status and Result Reason. Every file runs in a fresh project.
//!
//! `mandatory_vectors_that_must_pass` is the regression list;
//! `survey_all_mandatory_vectors` (ignored; run with `--ignored
//! --nocapture`) prints which of all mandatory vectors pass.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;

use common::Env;
use kmip_server::client::KmipClient;
use kmip_server::processor::Processor;
use kmip_server::ttlv::{self, Limits, Tag, Ttlv, Value};
use kmip_server::xml::{Placeholder, XmlItem, XmlValue, parse_test_case};
use time::OffsetDateTime;

const VECTORS: &str = "/work/shared/kmip/test-vectors";

/// Values the server produced, by the placeholder that names them.
type Bound = HashMap<Placeholder, Value>;

fn resolve(request: &XmlItem, bound: &Bound) -> Result<Ttlv, String> {
    request
        .resolve(&mut |_, _, p| match p {
            Placeholder::Now { offset_seconds } => Ok(Value::DateTime(
                OffsetDateTime::now_utc().unix_timestamp() + offset_seconds,
            )),
            other => bound
                .get(&other)
                .cloned()
                .ok_or_else(|| format!("{other:?} unbound")),
        })
        .map_err(|e| e.to_string())
}

/// Walks expected and actual together (children matched by tag and
/// occurrence), binding placeholders and noting differences in the fields
/// that make a response's shape.
fn compare(expected: &XmlItem, actual: &Ttlv, bound: &mut Bound, diffs: &mut Vec<String>) {
    // Inside a payload, what the server returns is its own business (the
    // operations Query lists, say); only placeholders are bound there.
    let in_payload = expected.tag == Tag::RESPONSE_PAYLOAD;
    match (&expected.value, &actual.value) {
        (XmlValue::Placeholder { placeholder, .. }, value)
            if !matches!(placeholder, Placeholder::Now { .. }) =>
        {
            bound.insert(*placeholder, value.clone());
        }
        (XmlValue::Structure(want), Value::Structure(have)) => {
            let mut seen: HashMap<Tag, usize> = HashMap::new();
            for child in want {
                let n = seen.entry(child.tag).or_default();
                let found = have.iter().filter(|c| c.tag == child.tag).nth(*n);
                *n += 1;
                match found {
                    Some(a) if in_payload => bind_only(child, a, bound),
                    Some(a) => compare(child, a, bound, diffs),
                    None if shape(child.tag) && !in_payload => {
                        diffs.push(format!("missing {}", child.tag))
                    }
                    None => {}
                }
            }
            if expected.tag == Tag::RESPONSE_MESSAGE {
                let want_items = want.iter().filter(|c| c.tag == Tag::BATCH_ITEM).count();
                let have_items = have.iter().filter(|c| c.tag == Tag::BATCH_ITEM).count();
                if want_items != have_items {
                    diffs.push(format!("{have_items} batch items, expected {want_items}"));
                }
            }
        }
        (XmlValue::Scalar(want), have) if shape(expected.tag) && want != have => {
            diffs.push(format!("{}: {have:?}, expected {want:?}", expected.tag));
        }
        _ => {}
    }
}

fn bind_only(expected: &XmlItem, actual: &Ttlv, bound: &mut Bound) {
    let mut ignored = Vec::new();
    match &expected.value {
        XmlValue::Scalar(_) => {}
        _ => compare(
            &XmlItem {
                tag: Tag(0),
                value: expected.value.clone(),
            },
            actual,
            bound,
            &mut ignored,
        ),
    }
}

fn shape(tag: Tag) -> bool {
    matches!(
        tag,
        Tag::OPERATION | Tag::RESULT_STATUS | Tag::RESULT_REASON | Tag::BATCH_ITEM
    )
}

/// Runs one vector file; `Err` lists what did not match.
async fn run(env: &Env, processor: &Processor, path: &Path) -> Result<(), String> {
    let xml = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let messages = parse_test_case(&xml, &Limits::DEFAULT).map_err(|e| e.to_string())?;
    let org = env
        .kms
        .create_organization(&common::actor(), "v")
        .await
        .unwrap();
    let project = env
        .kms
        .create_project(&common::actor(), org, "v")
        .await
        .unwrap();
    let client = KmipClient::with_all_operations("vectors", project);
    let peer: SocketAddr = "127.0.0.1:5696".parse().unwrap();
    let mut bound = Bound::new();
    for (i, pair) in messages.chunks(2).enumerate() {
        let [request, expected] = pair else {
            return Err("odd number of messages".into());
        };
        let request = resolve(request, &bound).map_err(|e| format!("message {i}: {e}"))?;
        let bytes = ttlv::encode(&request).map_err(|e| e.to_string())?;
        let response_bytes = processor.process(&client, peer, &bytes).await;
        let response =
            ttlv::decode(&response_bytes, &Limits::DEFAULT).map_err(|e| e.to_string())?;
        let mut diffs = Vec::new();
        compare(expected, &response, &mut bound, &mut diffs);
        if !diffs.is_empty() {
            let detail: Vec<String> = response
                .children(Tag::BATCH_ITEM)
                .filter_map(|b| b.child(Tag::RESULT_MESSAGE))
                .filter_map(|m| m.as_text().ok().map(str::to_owned))
                .collect();
            return Err(format!(
                "message {i}: {} ({})",
                diffs.join("; "),
                detail.join("; ")
            ));
        }
    }
    Ok(())
}

fn processor(env: &Env) -> Processor {
    Processor::new(env.kms.clone(), Limits::DEFAULT, 64)
}

/// Mandatory vectors this server passes (74 of the 187 in v1.0, v1.3 and
/// v1.4); a regression fails the test.
const MUST_PASS: &[&str] = &[
    "v1.0/mandatory/OMOS-M-1-10.xml",
    "v1.0/mandatory/OMOS-M-1-11.xml",
    "v1.0/mandatory/OMOS-M-1-12.xml",
    "v1.0/mandatory/SKFF-M-1-10.xml",
    "v1.0/mandatory/SKFF-M-1-11.xml",
    "v1.0/mandatory/SKFF-M-1-12.xml",
    "v1.0/mandatory/SKFF-M-11-10.xml",
    "v1.0/mandatory/SKFF-M-11-11.xml",
    "v1.0/mandatory/SKFF-M-11-12.xml",
    "v1.0/mandatory/SKFF-M-3-10.xml",
    "v1.0/mandatory/SKFF-M-3-11.xml",
    "v1.0/mandatory/SKFF-M-3-12.xml",
    "v1.0/mandatory/SKFF-M-5-10.xml",
    "v1.0/mandatory/SKFF-M-5-11.xml",
    "v1.0/mandatory/SKFF-M-5-12.xml",
    "v1.0/mandatory/SKFF-M-7-10.xml",
    "v1.0/mandatory/SKFF-M-7-11.xml",
    "v1.0/mandatory/SKFF-M-7-12.xml",
    "v1.0/mandatory/SKFF-M-9-10.xml",
    "v1.0/mandatory/SKFF-M-9-11.xml",
    "v1.0/mandatory/SKFF-M-9-12.xml",
    "v1.3/mandatory/AKLC-M-1-13.xml",
    "v1.3/mandatory/AKLC-M-2-13.xml",
    "v1.3/mandatory/AKLC-M-3-13.xml",
    "v1.3/mandatory/AKLC-O-1-13.xml",
    "v1.3/mandatory/CS-AC-M-1-13.xml",
    "v1.3/mandatory/CS-AC-M-2-13.xml",
    "v1.3/mandatory/CS-AC-M-7-13.xml",
    "v1.3/mandatory/CS-BC-M-1-13.xml",
    "v1.3/mandatory/CS-RNG-M-1-13.xml",
    "v1.3/mandatory/MSGENC-HTTPS-M-1-13.xml",
    "v1.3/mandatory/MSGENC-JSON-M-1-13.xml",
    "v1.3/mandatory/MSGENC-XML-M-1-13.xml",
    "v1.3/mandatory/OMOS-M-1-13.xml",
    "v1.3/mandatory/OMOS-O-1-13.xml",
    "v1.3/mandatory/SASED-M-1-13.xml",
    "v1.3/mandatory/SKFF-M-1-13.xml",
    "v1.3/mandatory/SKFF-M-11-13.xml",
    "v1.3/mandatory/SKFF-M-3-13.xml",
    "v1.3/mandatory/SKFF-M-5-13.xml",
    "v1.3/mandatory/SKFF-M-7-13.xml",
    "v1.3/mandatory/SKFF-M-9-13.xml",
    "v1.3/mandatory/SKLC-M-1-13.xml",
    "v1.3/mandatory/SKLC-M-2-13.xml",
    "v1.3/mandatory/SKLC-M-3-13.xml",
    "v1.3/mandatory/SKLC-O-1-13.xml",
    "v1.3/mandatory/SUITEB_128-M-1-13.xml",
    "v1.3/mandatory/SUITEB_192-M-1-13.xml",
    "v1.3/mandatory/TL-M-1-13.xml",
    "v1.4/mandatory/AKLC-M-1-14.xml",
    "v1.4/mandatory/AKLC-M-2-14.xml",
    "v1.4/mandatory/AKLC-M-3-14.xml",
    "v1.4/mandatory/CS-AC-M-2-14.xml",
    "v1.4/mandatory/CS-AC-M-7-14.xml",
    "v1.4/mandatory/CS-BC-M-1-14.xml",
    "v1.4/mandatory/CS-RNG-M-1-14.xml",
    "v1.4/mandatory/MSGENC-HTTPS-M-1-14.xml",
    "v1.4/mandatory/MSGENC-JSON-M-1-14.xml",
    "v1.4/mandatory/MSGENC-XML-M-1-14.xml",
    "v1.4/mandatory/OMOS-M-1-14.xml",
    "v1.4/mandatory/SASED-M-1-14.xml",
    "v1.4/mandatory/SASED-M-2-14.xml",
    "v1.4/mandatory/SKFF-M-1-14.xml",
    "v1.4/mandatory/SKFF-M-11-14.xml",
    "v1.4/mandatory/SKFF-M-3-14.xml",
    "v1.4/mandatory/SKFF-M-5-14.xml",
    "v1.4/mandatory/SKFF-M-7-14.xml",
    "v1.4/mandatory/SKFF-M-9-14.xml",
    "v1.4/mandatory/SKLC-M-1-14.xml",
    "v1.4/mandatory/SKLC-M-2-14.xml",
    "v1.4/mandatory/SKLC-M-3-14.xml",
    "v1.4/mandatory/SUITEB_128-M-1-14.xml",
    "v1.4/mandatory/SUITEB_192-M-1-14.xml",
    "v1.4/mandatory/TL-M-1-14.xml",
];

#[tokio::test]
async fn mandatory_vectors_that_must_pass() {
    let env = Env::new().await;
    let processor = processor(&env);
    let mut failures = Vec::new();
    for name in MUST_PASS {
        if let Err(e) = run(&env, &processor, &Path::new(VECTORS).join(name)).await {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
#[ignore = "a survey: prints which mandatory vectors pass"]
async fn survey_all_mandatory_vectors() {
    let env = Env::new().await;
    let processor = processor(&env);
    let mut passed = 0;
    let mut total = 0;
    for version in ["v1.0", "v1.3", "v1.4"] {
        let dir = Path::new(VECTORS).join(version).join("mandatory");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in files {
            total += 1;
            match run(&env, &processor, &file).await {
                Ok(()) => {
                    passed += 1;
                    println!("PASS {}", file.display());
                }
                Err(e) => println!("FAIL {}: {e}", file.display()),
            }
        }
    }
    println!("{passed}/{total} mandatory vectors pass");
}
