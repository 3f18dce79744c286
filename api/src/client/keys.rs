//! `strongroom key create|list|get|rotate|delete`: named keys
//! (`/api/v1/kms/keys`, Infisical's KMS API).

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use reqwest::Method;
use serde_json::{Value, json};

use super::{Connection, call, key_path, print_json, text};

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create a key in a project.
    Create(CreateArgs),
    /// List a project's keys.
    List(ListArgs),
    /// Show one key.
    Get(KeyIdArg),
    /// Add a new version; new encryptions and signatures use it, old
    /// ciphertexts still decrypt.
    Rotate(KeyIdArg),
    /// Delete a key.
    Delete(KeyIdArg),
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Usage {
    EncryptDecrypt,
    SignVerify,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The project (default STRONGROOM_PROJECT_ID).
    #[arg(long, env = "STRONGROOM_PROJECT_ID", value_name = "PROJECT_ID")]
    pub project: String,
    #[arg(long)]
    pub name: String,
    #[arg(long, default_value = "")]
    pub description: String,
    /// What the key is for.
    #[arg(long, value_enum, default_value = "encrypt-decrypt")]
    pub usage: Usage,
    /// aes-256-gcm, aes-128-gcm, RSA_2048, RSA_3072, RSA_4096,
    /// ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521, ED25519, hmac-sha256, …
    #[arg(long, default_value = "aes-256-gcm", value_name = "ALGORITHM")]
    pub algorithm: String,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The project (default STRONGROOM_PROJECT_ID).
    #[arg(long, env = "STRONGROOM_PROJECT_ID", value_name = "PROJECT_ID")]
    pub project: String,
    /// Only keys whose name contains this.
    #[arg(long)]
    pub search: Option<String>,
    #[arg(long, default_value_t = 0)]
    pub offset: u64,
    #[arg(long, default_value_t = 100)]
    pub limit: u64,
}

#[derive(Debug, Args)]
pub struct KeyIdArg {
    /// The key's id.
    #[arg(value_name = "KEY_ID")]
    pub key: String,
}

pub async fn run(conn: &Connection, command: KeyCommand) -> anyhow::Result<()> {
    // What to send, and whether the answer is a list.
    let (method, path, body, list) = match command {
        KeyCommand::Create(a) => {
            let usage = match a.usage {
                Usage::EncryptDecrypt => "encrypt-decrypt",
                Usage::SignVerify => "sign-verify",
            };
            let body = json!({
                "projectId": a.project,
                "name": a.name,
                "description": a.description,
                "keyUsage": usage,
                "encryptionAlgorithm": a.algorithm,
            });
            (
                Method::POST,
                "/api/v1/kms/keys".to_owned(),
                Some(body),
                false,
            )
        }
        KeyCommand::List(a) => {
            let mut query = vec![
                ("projectId", a.project),
                ("offset", a.offset.to_string()),
                ("limit", a.limit.to_string()),
            ];
            if let Some(s) = a.search {
                query.push(("search", s));
            }
            let query: Vec<String> = query
                .into_iter()
                .map(|(k, v)| format!("{k}={}", encode(&v)))
                .collect();
            let path = format!("/api/v1/kms/keys?{}", query.join("&"));
            (Method::GET, path, None, true)
        }
        KeyCommand::Get(a) => (Method::GET, key_path(&a.key)?, None, false),
        KeyCommand::Rotate(a) => (
            Method::POST,
            format!("{}/rotate", key_path(&a.key)?),
            None,
            false,
        ),
        KeyCommand::Delete(a) => (Method::DELETE, key_path(&a.key)?, None, false),
    };
    let answer = call(conn, method, &path, body.as_ref()).await?;
    if conn.json {
        return print_json(&answer);
    }
    if list {
        print_list(&answer);
    } else {
        print_key(answer.get("key").context("the answer has no key")?);
    }
    Ok(())
}

fn print_key(key: &Value) {
    println!("id:          {}", text(key, "id"));
    println!("name:        {}", text(key, "name"));
    if let Some(d) = key.get("description").and_then(Value::as_str)
        && !d.is_empty()
    {
        println!("description: {d}");
    }
    println!("usage:       {}", text(key, "keyUsage"));
    println!("algorithm:   {}", text(key, "encryptionAlgorithm"));
    println!(
        "version:     {}",
        key.get("version")
            .map_or_else(|| "-".into(), Value::to_string)
    );
    let disabled = key.get("isDisabled").and_then(Value::as_bool) == Some(true);
    println!("enabled:     {}", if disabled { "no" } else { "yes" });
    println!("project:     {}", text(key, "projectId"));
    if let Some(c) = key.get("createdAt") {
        println!(
            "created:     {}",
            c.as_str().map_or_else(|| c.to_string(), str::to_owned)
        );
    }
}

fn print_list(answer: &Value) {
    let keys = answer
        .get("keys")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    println!(
        "{:<36}  {:<24}  {:<15}  {:<14}  VERSION",
        "ID", "NAME", "USAGE", "ALGORITHM"
    );
    for k in keys {
        println!(
            "{:<36}  {:<24}  {:<15}  {:<14}  {}",
            text(k, "id"),
            text(k, "name"),
            text(k, "keyUsage"),
            text(k, "encryptionAlgorithm"),
            k.get("version")
                .map_or_else(|| "-".into(), Value::to_string)
        );
    }
    let total = answer
        .get("totalCount")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    println!("{} of {total} keys", keys.len());
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass).
fn encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_encoded() {
        assert_eq!(super::encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }
}
