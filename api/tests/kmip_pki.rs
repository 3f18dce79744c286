//! The KMIP PKI and client registry over a real install: the CA is made
//! once and kept, the server certificate follows the host names, clients
//! are validated, revocations reach the CRL and the directory, and an
//! edited registry row is refused.

use std::sync::Arc;

use api::kmip::pki::KmipPki;
use api::kmip::service::KmipAdmin;
use kmip_server::client::ClientDirectory;
use kms_core::service::{Actor, KeyLocation, Kms, OpenOptions};
use pki::x509::{IssuedCertificate, SignedCrl, generate_p256};

async fn install(dir: &std::path::Path) -> Kms {
    let root = api::root::dev_root(dir, true).unwrap();
    Kms::init(&OpenOptions::sqlite_in(dir), root).await.unwrap()
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn the_ca_is_kept_and_the_server_certificate_follows_the_host_names() {
    let dir = tempfile::tempdir().unwrap();
    let kms = install(dir.path()).await;
    let first = KmipPki::ensure(
        &kms,
        &names(&["localhost", "127.0.0.1"]),
        KeyLocation::Software,
    )
    .await
    .unwrap();
    let again = KmipPki::ensure(
        &kms,
        &names(&["localhost", "127.0.0.1"]),
        KeyLocation::Software,
    )
    .await
    .unwrap();
    assert_eq!(first.state(), again.state());
    let moved = KmipPki::ensure(
        &kms,
        &names(&["kms.example", "10.0.0.5"]),
        KeyLocation::Software,
    )
    .await
    .unwrap();
    assert_eq!(moved.ca_pem(), first.ca_pem());
    assert_ne!(
        moved.state().server_certificate,
        first.state().server_certificate
    );
    let server = IssuedCertificate::from_pem(&moved.state().server_certificate).unwrap();
    assert_eq!(
        pki::x509::names::common_name_of(server.subject()).as_deref(),
        Some("kms.example")
    );
    // The CA key and the server key live in the system project.
    let system = kms.system_project();
    kms.attributes(system, moved.state().ca_private_key)
        .await
        .unwrap();
    kms.attributes(system, moved.state().server_private_key)
        .await
        .unwrap();
    // The listener configuration builds from it (server key read from kms-core).
    moved
        .tls_config(moved.crl(&[]).await.unwrap())
        .await
        .unwrap();
    kms.close().await;
}

#[tokio::test]
async fn clients_certificates_and_revocation() {
    let dir = tempfile::tempdir().unwrap();
    let kms = install(dir.path()).await;
    let actor = Actor::new("test", None);
    let org = kms.create_organization(&actor, "o").await.unwrap();
    let project = kms.create_project(&actor, org, "p").await.unwrap();
    let pki = KmipPki::ensure(&kms, &names(&["localhost"]), KeyLocation::Software)
        .await
        .unwrap();
    let mut admin = KmipAdmin::new(&kms, pki);
    let (tls, directory) = admin.go_live().await.unwrap();
    let admin = Arc::new(admin);

    // Validation.
    let missing = kms_core::ids::ProjectId::generate();
    assert!(
        admin
            .create_client(&actor, "app", missing, "get")
            .await
            .is_err()
    );
    assert!(
        admin
            .create_client(&actor, "app", kms.system_project(), "get")
            .await
            .is_err()
    );
    assert!(
        admin
            .create_client(&actor, "a b", project, "get")
            .await
            .is_err()
    );
    assert!(
        admin
            .create_client(&actor, "app", project, "")
            .await
            .is_err()
    );
    let app = admin
        .create_client(&actor, "app", project, "get,locate")
        .await
        .unwrap();
    assert_eq!(app.operations, ["Locate", "Get"]);
    assert!(
        admin
            .create_client(&actor, "app", project, "get")
            .await
            .is_err()
    );

    let key = generate_p256().unwrap();
    let spki = der::Encode::to_der(key.public_key()).unwrap();
    assert!(
        admin
            .issue_certificate(&actor, "nobody", &spki, time::Duration::days(1))
            .await
            .is_err()
    );
    assert!(
        admin
            .issue_certificate(&actor, "app", b"not a key", time::Duration::days(1))
            .await
            .is_err()
    );
    let issued = admin
        .issue_certificate(&actor, "app", &spki, time::Duration::days(1))
        .await
        .unwrap();
    let cert = IssuedCertificate::from_pem(&issued.certificate_pem).unwrap();
    let client = directory.client_for(cert.der()).await.unwrap();
    assert_eq!((client.name.as_str(), client.project), ("app", project));
    assert_eq!(client.operations.len(), 2);

    // Revocation: out of the directory, onto the CRL, new TLS config sent.
    let before = tls.borrow().clone();
    assert_eq!(admin.revoke_client(&actor, "app").await.unwrap(), 1);
    assert!(directory.client_for(cert.der()).await.is_none());
    assert!(!Arc::ptr_eq(&before, &tls.borrow()));
    let records = admin.pki().registry().certificates().await.unwrap();
    let crl = SignedCrl::from_der(
        &admin
            .pki()
            .crl(&records.into_iter().map(|(c, _)| c).collect::<Vec<_>>())
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        crl.revoked_serials().collect::<Vec<_>>(),
        vec![cert.serial()]
    );
    assert!(
        admin
            .issue_certificate(&actor, "app", &spki, time::Duration::days(1))
            .await
            .is_err()
    );
    let listed = admin.list_clients().await.unwrap();
    assert!(!listed[0].enabled && listed[0].live_certificates == 0);

    // A client record widened in the database is refused, not served.
    admin
        .create_client(&actor, "reader", project, "get")
        .await
        .unwrap();
    kms.close().await;
    let url = format!("sqlite://{}", dir.path().join("strongroom.db").display());
    let db = sqlx_sqlite(&url).await;
    let widened = String::from_utf8(
        sqlx::query_scalar::<_, Vec<u8>>("SELECT value FROM records WHERE key = 'reader'")
            .fetch_one(&db)
            .await
            .unwrap(),
    )
    .unwrap()
    .replace("[\"Get\"]", "[\"Get\",\"Destroy\"]");
    sqlx::query("UPDATE records SET value = ? WHERE key = 'reader'")
        .bind(widened.into_bytes())
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    let kms = Kms::open(
        &OpenOptions::sqlite_in(dir.path()),
        api::root::dev_root(dir.path(), false).unwrap(),
    )
    .await
    .unwrap();
    let pki = KmipPki::ensure(&kms, &names(&["localhost"]), KeyLocation::Software)
        .await
        .unwrap();
    let err = KmipAdmin::new(&kms, pki).list_clients().await.unwrap_err();
    assert!(
        format!("{err:#}").contains("failed authentication"),
        "{err:#}"
    );
    kms.close().await;
}

async fn sqlx_sqlite(url: &str) -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect(url).await.unwrap()
}
