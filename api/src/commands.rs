//! The one-shot commands: `init` and `audit verify`.

use anyhow::{Context, bail};
use kms_core::hierarchy::seal_file;
use kms_core::service::Kms;

use crate::config::{Config, RootConfig};
use crate::install;

/// `strongroom init`: creates a production install with the configured root
/// of trust. Refuses to touch an existing one.
pub async fn init(mut config: Config) -> anyhow::Result<()> {
    // Refuse before creating anything: an existing install, or no secret.
    let seal = config.data_dir.join(seal_file::FILE_NAME);
    if seal.exists() {
        bail!(
            "{} is already initialised ({} exists); refusing to overwrite it",
            config.data_dir.display(),
            seal.display()
        );
    }
    let root = crate::root::configured_root(&config, true).await?;
    let data_dir = install::prepare_data_dir(&mut config, true)?;
    let opts = install::open_options(&config);
    let kms = Kms::init(&opts, root)
        .await
        .with_context(|| format!("cannot initialise {}", data_dir.display()))?;
    let install_id = kms.install_id();
    // The token's resident-key store first: `kmip.ca_key = "hsm"` creates
    // the CA key in it.
    let pki = async {
        install::attach_resident_keys(&config, &kms).await?;
        crate::kmip::pki::KmipPki::ensure(
            &kms,
            &config.kmip.hostnames,
            config.kmip.ca_key_location(),
        )
        .await
    }
    .await;
    let admin = match pki {
        Ok(_) => first_identity(&kms, &config).await,
        Err(e) => Err(e.context("cannot create the KMIP CA")),
    };
    kms.close().await;
    let bootstrap = admin?;
    let how = match &config.root {
        RootConfig::Software { .. } => "software root of trust (passphrase)",
        RootConfig::Pkcs11(_) => "PKCS#11 root of trust (a non-extractable key in the token)",
        RootConfig::AwsKms(_) => "AWS KMS root of trust",
        RootConfig::GcpKms(_) => "Google Cloud KMS root of trust",
    };
    println!("initialised install {install_id} in {}", data_dir.display());
    let keep = match &config.root {
        RootConfig::Software { .. } => "keep the passphrase safe",
        RootConfig::Pkcs11(_) => "keep the token and its PIN safe",
        RootConfig::AwsKms(_) => "keep the KMS key enabled and never schedule its deletion",
        RootConfig::GcpKms(_) => "keep the crypto key's versions enabled and never destroy them",
    };
    println!("root key sealed with the {how}; {keep}: without it the data cannot be opened");
    println!(
        "KMIP CA created; server certificate for {}",
        config.kmip.hostnames.join(", ")
    );
    println!(
        "first identity (super admin) created; its Universal Auth credentials are in {} (mode 0600)",
        bootstrap.display()
    );
    println!("next: strongroom serve{}", config_flag(&config));
    Ok(())
}

/// `bootstrap.json` of a production install: where the API listens and
/// the first identity's credentials, written once by `init`.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct InitBootstrap {
    api_url: String,
    api_address: String,
    organization_id: String,
    identity_client_id: String,
    identity_client_secret: crate::bootstrap::FileSecret,
}

/// Creates the default organization and the first identity, and writes
/// their ids and the identity's secret to `DATA/bootstrap.json` (0600).
async fn first_identity(kms: &Kms, config: &Config) -> anyhow::Result<std::path::PathBuf> {
    let actor = kms_core::service::Actor::system();
    let organization = crate::http::routes::organizations::create_organization(
        kms,
        &actor,
        crate::bootstrap::DEFAULT_NAME,
    )
    .await
    .map_err(|e| anyhow::anyhow!("cannot create the default organization: {e}"))?;
    let (identity_client_id, identity_client_secret) = crate::bootstrap::ensure_admin_identity(
        kms,
        None,
        kms_core::ids::OrganizationId::from_uuid(organization),
    )
    .await?;
    let document = InitBootstrap {
        api_url: crate::bootstrap::https_url(config.api.listen),
        api_address: crate::bootstrap::reachable(config.api.listen).to_string(),
        organization_id: organization.to_string(),
        identity_client_id,
        identity_client_secret,
    };
    // It holds the secret: zeroized once written.
    let mut json = zeroize::Zeroizing::new(
        serde_json::to_vec_pretty(&document).context("cannot encode bootstrap.json")?,
    );
    json.push(b'\n');
    let path = crate::bootstrap::Bootstrap::path(&config.data_dir);
    crate::fsutil::write_atomic(&path, &json, 0o600)?;
    Ok(path)
}

/// `strongroom audit verify`: checks the whole audit chain. Ok with the number
/// of records; an error naming the first bad record otherwise.
pub async fn audit_verify(mut config: Config) -> anyhow::Result<()> {
    install::prepare_data_dir(&mut config, false)?;
    let kms = install::open_existing(&config).await?;
    let result = kms.verify_audit().await;
    kms.close().await;
    let records = result.context("audit chain verification failed")?;
    println!("audit chain intact: {records} records");
    Ok(())
}

fn config_flag(config: &Config) -> String {
    match &config.file {
        Some(path) => format!(" --config {}", path.display()),
        None => String::new(),
    }
}
