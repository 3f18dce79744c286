//! `strongroom login` and `strongroom whoami`.

use anyhow::Context;
use clap::Args;
use reqwest::Method;
use serde_json::Value;

use super::{Client, Connection, call, client_secret, default_token_file, print_json, text};

#[derive(Debug, Args)]
pub struct LoginArgs {
    #[command(flatten)]
    pub conn: Connection,
    /// Keep the token in the token file (0600) for later commands instead
    /// of printing it.
    #[arg(long)]
    pub save: bool,
}

#[derive(Debug, Args)]
pub struct WhoamiArgs {
    #[command(flatten)]
    pub conn: Connection,
}

/// Logs in with the client id and secret. Prints the access token alone on
/// standard output (`export STRONGROOM_TOKEN=$(strongroom login)`), or
/// with `--save` writes it to the token file and says so.
pub async fn login(args: LoginArgs) -> anyhow::Result<()> {
    let conn = &args.conn;
    let client = Client::new(conn)?;
    let id = conn
        .client_id
        .as_deref()
        .context("no client id: pass --client-id or set STRONGROOM_CLIENT_ID")?;
    let secret = client_secret(conn)?.context(
        "no client secret: set STRONGROOM_CLIENT_SECRET or pass --client-secret-file FILE \
         (never on the command line)",
    )?;
    let answer = client.login(id, &secret).await?;
    let token = answer
        .get("accessToken")
        .and_then(Value::as_str)
        .context("the login answer has no accessToken")?;
    let expires_in = answer.get("expiresIn").and_then(Value::as_u64).unwrap_or(0);
    if args.save {
        let path = conn
            .token_file
            .clone()
            .or_else(default_token_file)
            .context("no token file: pass --token-file (HOME is not set)")?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        crate::fsutil::write_atomic(&path, format!("{token}\n").as_bytes(), 0o600)?;
        if conn.json {
            print_json(&serde_json::json!({
                "tokenFile": path.display().to_string(),
                "expiresIn": expires_in,
            }))?;
        } else {
            println!(
                "logged in; token saved to {} (expires in {expires_in} s)",
                path.display()
            );
        }
    } else if conn.json {
        print_json(&answer)?;
    } else {
        println!("{token}");
        eprintln!("token expires in {expires_in} s");
    }
    Ok(())
}

/// Who the credentials belong to.
pub async fn whoami(args: WhoamiArgs) -> anyhow::Result<()> {
    let me = call(&args.conn, Method::GET, "/api/v1/auth/whoami", None).await?;
    if args.conn.json {
        return print_json(&me);
    }
    println!(
        "identity:     {} ({})",
        text(&me, "identityName"),
        text(&me, "identityId")
    );
    println!(
        "organization: {} (role {})",
        text(&me, "orgId"),
        text(&me, "orgRole")
    );
    if me.get("superAdmin").and_then(Value::as_bool) == Some(true) {
        println!("super admin:  yes");
    }
    println!("auth method:  {}", text(&me, "authMethod"));
    let expires_in = me
        .get("tokenExpiresIn")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    println!("token expires in {expires_in} s");
    Ok(())
}
