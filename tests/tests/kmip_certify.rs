//! KMIP Certify against the real binary, answered by the install's KMIP CA,
//! and the KMIP CA key kept in a PKCS#11 token (`kmip.ca_key = "hsm"`).
//!
//! Every issued certificate is checked by OpenSSL (`openssl verify`
//! against the KMIP CA certificate), not by our own code.

mod common;

use std::path::Path;
use std::process::Command;

use common::kmip_client::*;
use common::*;
use kmip_server::ttlv::enums::Operation as Op;
use kmip_server::ttlv::{Tag, Ttlv};

const INVALID_FIELD: u32 = 7;
/// KMIP Certificate Request Type PKCS#10.
const PKCS_10: u32 = 2;
/// KMIP Link Types.
const CERTIFICATE_LINK: u32 = 0x101;
const PUBLIC_KEY_LINK: u32 = 0x102;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn openssl(args: &[&str]) -> String {
    let out = Command::new("openssl").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A P-256 key and a DER PKCS#10 request for `CN=<cn>`, made by OpenSSL.
fn openssl_csr(dir: &Path, cn: &str) -> Vec<u8> {
    let csr = dir.join(format!("{cn}.csr"));
    let key = dir.join(format!("{cn}.key"));
    openssl(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        key.to_str().unwrap(),
        "-outform",
        "DER",
        "-out",
        csr.to_str().unwrap(),
        "-subj",
        &format!("/CN={cn}/O=ignored"),
    ]);
    std::fs::read(csr).unwrap()
}

/// Writes DER `certificate` as PEM, checks it with `openssl verify`
/// against `ca`, and returns its subject line.
fn verify_with_openssl(dir: &Path, name: &str, certificate: &[u8], ca: &Path) -> String {
    let der = dir.join(format!("{name}.der"));
    let pem = dir.join(format!("{name}.pem"));
    std::fs::write(&der, certificate).unwrap();
    openssl(&[
        "x509",
        "-inform",
        "DER",
        "-in",
        der.to_str().unwrap(),
        "-out",
        pem.to_str().unwrap(),
    ]);
    let verified = openssl(&[
        "verify",
        "-purpose",
        "sslclient",
        "-CAfile",
        ca.to_str().unwrap(),
        pem.to_str().unwrap(),
    ]);
    assert!(verified.contains(": OK"), "{verified}");
    openssl(&["x509", "-noout", "-subject", "-in", pem.to_str().unwrap()])
}

fn certify_csr(csr: Vec<u8>) -> Vec<Ttlv> {
    vec![
        Ttlv::enumeration(Tag::CERTIFICATE_REQUEST_TYPE, PKCS_10),
        Ttlv::bytes(Tag::CERTIFICATE_REQUEST, csr),
    ]
}

/// The DER value of Certificate object `id`.
async fn certificate_value(c: &mut Conn, id: &str) -> Vec<u8> {
    let item = one(c, Op::GET, vec![uid(id)]).await;
    payload(&item)
        .child(Tag::CERTIFICATE)
        .and_then(|cert| cert.child(Tag::CERTIFICATE_VALUE))
        .expect("Get of a Certificate returns its value")
        .as_bytes()
        .unwrap()
        .to_vec()
}

/// The (Link Type, Linked Object Identifier) pairs of object `id`.
async fn links(c: &mut Conn, id: &str) -> Vec<(u32, String)> {
    let item = one(
        c,
        Op::GET_ATTRIBUTES,
        vec![uid(id), Ttlv::text(Tag::ATTRIBUTE_NAME, "Link")],
    )
    .await;
    payload(&item)
        .children(Tag::ATTRIBUTE)
        .filter_map(|a| a.child(Tag::ATTRIBUTE_VALUE))
        .map(|v| {
            (
                v.child(Tag::LINK_TYPE).unwrap().as_enum().unwrap(),
                v.child(Tag::LINKED_OBJECT_IDENTIFIER)
                    .unwrap()
                    .as_text()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect()
}

/// An ECDSA P-256 key pair whose public key is named `name`; returns
/// (private, public).
async fn create_ec_pair(c: &mut Conn, name: &str) -> (String, String) {
    let item = one(
        c,
        Op::CREATE_KEY_PAIR,
        vec![
            Ttlv::structure(
                Tag::COMMON_TEMPLATE_ATTRIBUTE,
                vec![
                    attr(
                        "Cryptographic Algorithm",
                        Ttlv::enumeration(Tag::ATTRIBUTE_VALUE, 6u32),
                    ),
                    attr(
                        "Cryptographic Length",
                        Ttlv::integer(Tag::ATTRIBUTE_VALUE, 256),
                    ),
                ],
            ),
            Ttlv::structure(
                Tag::PRIVATE_KEY_TEMPLATE_ATTRIBUTE,
                vec![attr(
                    "Cryptographic Usage Mask",
                    Ttlv::integer(Tag::ATTRIBUTE_VALUE, 0x1),
                )],
            ),
            Ttlv::structure(
                Tag::PUBLIC_KEY_TEMPLATE_ATTRIBUTE,
                vec![
                    attr(
                        "Cryptographic Usage Mask",
                        Ttlv::integer(Tag::ATTRIBUTE_VALUE, 0x2),
                    ),
                    attr(
                        "Name",
                        Ttlv::structure(
                            Tag::ATTRIBUTE_VALUE,
                            vec![
                                Ttlv::text(Tag::NAME_VALUE, name),
                                Ttlv::enumeration(Tag::NAME_TYPE, 1u32),
                            ],
                        ),
                    ),
                ],
            ),
        ],
    )
    .await;
    let p = payload(&item);
    let text = |tag| p.child(tag).unwrap().as_text().unwrap().to_owned();
    (
        text(Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER),
        text(Tag::PUBLIC_KEY_UNIQUE_IDENTIFIER),
    )
}

/// Certify with a PKCS#10 request and with a Public Key object, a forged
/// request refused, and Query listing Certify: all as `who` against
/// `address`; every certificate verified by OpenSSL against `ca`.
async fn exercise_certify(address: &str, who: &Identity, ca: &Path, dir: &Path) {
    let mut c = connect(address, who).await.unwrap();

    let item = one(
        &mut c,
        Op::QUERY,
        vec![Ttlv::enumeration(Tag::QUERY_FUNCTION, 1u32)],
    )
    .await;
    assert!(
        payload(&item)
            .children(Tag::OPERATION)
            .any(|o| o.as_enum().ok() == Some(Op::CERTIFY.0)),
        "Query must list Certify once a CA is wired"
    );

    // A PKCS#10 request: the subject is the request's CN alone.
    let csr = openssl_csr(dir, "certified-client");
    let item = one(&mut c, Op::CERTIFY, certify_csr(csr.clone())).await;
    let certificate = returned_id(&item);
    let der = certificate_value(&mut c, &certificate).await;
    let subject = verify_with_openssl(dir, "from-csr", &der, ca);
    assert!(subject.contains("CN = certified-client"), "{subject}");
    assert!(!subject.contains("ignored"), "{subject}");

    // A request whose signature no longer verifies is Invalid Field.
    let mut forged = csr;
    let last = forged.len() - 1;
    forged[last] ^= 0x01;
    let item = one(&mut c, Op::CERTIFY, certify_csr(forged)).await;
    assert_eq!(reason(&item), Some(INVALID_FIELD), "{item:?}");

    // A Public Key object: certified for its Name, and linked both ways.
    let (_private, public) = create_ec_pair(&mut c, "certified-key").await;
    let item = one(&mut c, Op::CERTIFY, vec![uid(&public)]).await;
    let certificate = returned_id(&item);
    let der = certificate_value(&mut c, &certificate).await;
    let subject = verify_with_openssl(dir, "from-key", &der, ca);
    assert!(subject.contains("CN = certified-key"), "{subject}");
    assert!(
        links(&mut c, &public)
            .await
            .contains(&(CERTIFICATE_LINK, certificate.clone())),
        "the public key links to its certificate"
    );
    assert!(
        links(&mut c, &certificate)
            .await
            .contains(&(PUBLIC_KEY_LINK, public.clone())),
        "the certificate links to its public key"
    );
}

#[test]
fn certify_issues_from_the_kmip_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut server = start_dev(&data, &["--kmip-listen", "127.0.0.1:0"]);
    let bootstrap = read_bootstrap(&data);
    let admin = Identity::admin(&bootstrap);
    let address = bootstrap["kmipAddress"].as_str().unwrap().to_owned();
    runtime().block_on(exercise_certify(&address, &admin, &admin.ca, tmp.path()));
    assert!(server.terminate().success());
}

use common::softhsm::MODULE as SOFTHSM;

/// The private key objects in the token, as `pkcs11-tool` lists them.
fn token_private_keys(conf: &Path) -> String {
    let out = Command::new("pkcs11-tool")
        .args([
            "--module",
            SOFTHSM,
            "--token-label",
            "strongroom-e2e",
            "--login",
            "--pin",
            "1234",
            "--list-objects",
            "--type",
            "privkey",
        ])
        .env("SOFTHSM2_CONF", conf)
        .output()
        .expect("pkcs11-tool (apt-get install opensc)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The environment variable through which the test binary runs
/// [`make_project_in_configured_install`] in a child process for
/// [`kmip_ca_key_resident_in_the_hsm`].
const PROJECT_HELPER: &str = "STRONGROOM_TEST_MAKE_PROJECT_IN";

/// Not a test of its own: with [`PROJECT_HELPER`] naming a config file, opens
/// that install (the token found through the `SOFTHSM2_CONF` the parent set
/// for this child process) and prints the id of a new project. There is no
/// command that creates projects yet, and the PKCS#11 module reads its
/// configuration from the environment, which a test must not change in its
/// own process.
#[test]
#[ignore = "a helper that kmip_ca_key_resident_in_the_hsm runs in a child process"]
fn make_project_in_configured_install() {
    let Some(config_file) = std::env::var_os(PROJECT_HELPER) else {
        return;
    };
    let mut config = api::config::load(
        Some(Path::new(&config_file)),
        api::config::Mode::Production,
        &api::config::Env::default(),
        &api::config::Overrides::default(),
    )
    .unwrap();
    api::install::prepare_data_dir(&mut config, false).unwrap();
    let project = runtime().block_on(async {
        let kms = api::install::open_existing(&config).await.unwrap();
        let actor = kms_core::service::Actor::new("test", None);
        let org = kms.create_organization(&actor, "hsm").await.unwrap();
        let project = kms.create_project(&actor, org, "hsm").await.unwrap();
        kms.close().await;
        project
    });
    println!("PROJECT={project}");
}

/// `kmip.ca_key = "hsm"` on a PKCS#11 root: `init` generates the CA key in
/// the token (and nothing else there but the root key); client
/// certificates, the listener's certificate chain and Certify all come
/// from it and verify with OpenSSL.
#[test]
fn kmip_ca_key_resident_in_the_hsm() {
    if !common::softhsm::available("HSM-resident KMIP CA test") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let conf = common::softhsm::token(tmp.path());
    api::bootstrap::ensure_dev_tls(tmp.path()).unwrap();
    let config = tmp.path().join("strongroom.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\n[api]\ntls_cert = \"tls/server.pem\"\ntls_key = \"tls/server.key\"\n\
             [kmip]\nca_key = \"hsm\"\n\
             [root]\nprovider = \"pkcs11\"\nmodule = \"{SOFTHSM}\"\ntoken_label = \"strongroom-e2e\"\n\
             pin_file = \"pin\"\nkey_label = \"strongroom-root\"\n"
        ),
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let with_hsm = |args: &[&str]| {
        let mut cmd = strongroom(args);
        cmd.env("SOFTHSM2_CONF", &conf);
        cmd
    };

    assert!(
        !token_private_keys(&conf).contains("Private Key Object"),
        "a fresh token holds no private key"
    );
    let (status, _, stderr) = run(with_hsm(&["init", "--config", cfg]));
    assert!(status.success(), "{stderr}");
    let keys = token_private_keys(&conf);
    assert_eq!(
        keys.matches("Private Key Object; EC").count(),
        1,
        "init must generate exactly the CA key in the token:\n{keys}"
    );

    // A project (through the library, in a child with the token's
    // environment), then a client and its certificate through the CLI.
    let helper = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "make_project_in_configured_install",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(PROJECT_HELPER, &config)
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .unwrap();
    let helper_out = String::from_utf8_lossy(&helper.stdout);
    let project = helper_out
        .lines()
        // The harness prints the test's name on the same line.
        .find_map(|l| l.split("PROJECT=").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| {
            panic!(
                "no project from the helper:\n{helper_out}\n{}",
                String::from_utf8_lossy(&helper.stderr)
            )
        })
        .to_owned();
    let client_dir = tmp.path().join("client");
    for args in [
        &[
            "kmip",
            "client",
            "create",
            "--config",
            cfg,
            "--project",
            &project,
            "--name",
            "hsm-client",
            "--operations",
            "all",
        ][..],
        &[
            "kmip",
            "client",
            "cert",
            "--config",
            cfg,
            "--name",
            "hsm-client",
            "--out",
            client_dir.to_str().unwrap(),
        ],
    ] {
        let (status, _, stderr) = run(with_hsm(args));
        assert!(status.success(), "{args:?}: {stderr}");
    }
    let who = Identity::in_dir(&client_dir);
    openssl(&[
        "verify",
        "-purpose",
        "sslclient",
        "-CAfile",
        who.ca.to_str().unwrap(),
        who.certificate.to_str().unwrap(),
    ]);

    // The listener serves the server certificate the token's CA signed
    // (the client verifies it against ca.pem), and Certify signs there too.
    let mut server = Process::spawn(with_hsm(&[
        "serve",
        "--config",
        cfg,
        "--api-listen",
        "127.0.0.1:0",
        "--kmip-listen",
        "127.0.0.1:0",
    ]));
    server.wait_ready().unwrap();
    let address = kmip_address_from(&server.stdout());
    runtime().block_on(exercise_certify(&address, &who, &who.ca, tmp.path()));
    assert!(server.terminate().success(), "{}", server.stderr());
    let keys = token_private_keys(&conf);
    assert_eq!(
        keys.matches("Private Key Object; EC").count(),
        1,
        "only the CA key lives in the token:\n{keys}"
    );
}

/// The KMIP address from the address block `serve` prints.
fn kmip_address_from(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("KMIP"))
        .map(|rest| rest.trim().to_owned())
        .unwrap_or_else(|| panic!("no KMIP address in:\n{stdout}"))
}
