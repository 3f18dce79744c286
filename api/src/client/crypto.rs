//! `strongroom encrypt|decrypt|sign|verify` with a named key. Input comes
//! from a file or standard input and is base64-encoded by the client;
//! decrypted plaintext is written as raw bytes.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use reqwest::Method;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::{Connection, b64, call, key_path, print_json, read_input, unb64};

#[derive(Debug, Args)]
pub struct EncryptArgs {
    #[command(flatten)]
    pub conn: Connection,
    /// The key's id.
    #[arg(long, value_name = "KEY_ID")]
    pub key: String,
    /// The plaintext (default: standard input).
    #[arg(long = "in", value_name = "FILE")]
    pub input: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DecryptArgs {
    #[command(flatten)]
    pub conn: Connection,
    /// The key's id.
    #[arg(long, value_name = "KEY_ID")]
    pub key: String,
    /// The ciphertext as `encrypt` printed it (default: standard input).
    #[arg(long = "in", value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Write the plaintext here (0600) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    #[command(flatten)]
    pub conn: Connection,
    /// The key's id.
    #[arg(long, value_name = "KEY_ID")]
    pub key: String,
    /// ECDSA_SHA_256, ECDSA_SHA_384, ECDSA_SHA_512, RSASSA_PSS_SHA_256,
    /// RSASSA_PKCS1_V1_5_SHA_256, … (Infisical's names).
    #[arg(long, value_name = "ALGORITHM")]
    pub algorithm: String,
    /// The data (default: standard input).
    #[arg(long = "in", value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// The input is already a digest of the data.
    #[arg(long)]
    pub digest: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub conn: Connection,
    /// The key's id.
    #[arg(long, value_name = "KEY_ID")]
    pub key: String,
    /// The algorithm the signature was made with.
    #[arg(long, value_name = "ALGORITHM")]
    pub algorithm: String,
    /// The signature, base64.
    #[arg(
        long,
        value_name = "BASE64",
        conflicts_with = "signature_file",
        required_unless_present = "signature_file"
    )]
    pub signature: Option<String>,
    /// A file holding the signature, base64 (as `sign` prints it).
    #[arg(long, value_name = "FILE")]
    pub signature_file: Option<PathBuf>,
    /// The data (default: standard input).
    #[arg(long = "in", value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// The input is already a digest of the data.
    #[arg(long)]
    pub digest: bool,
}

fn field<'a>(answer: &'a Value, name: &str) -> anyhow::Result<&'a str> {
    answer
        .get(name)
        .and_then(Value::as_str)
        .with_context(|| format!("the answer has no {name}"))
}

pub async fn encrypt(args: EncryptArgs) -> anyhow::Result<()> {
    let path = format!("{}/encrypt", key_path(&args.key)?);
    let plaintext = read_input(args.input.as_deref())?;
    // Best effort: this base64 text is wiped, but the JSON value and the
    // request body reqwest serializes hold copies that are not ours to
    // wipe (they live only as long as this short command).
    let encoded = Zeroizing::new(b64(&plaintext));
    let body = json!({ "plaintext": encoded.as_str() });
    let answer = call(&args.conn, Method::POST, &path, Some(&body)).await?;
    if args.conn.json {
        return print_json(&answer);
    }
    println!("{}", field(&answer, "ciphertext")?);
    Ok(())
}

pub async fn decrypt(args: DecryptArgs) -> anyhow::Result<()> {
    let path = format!("{}/decrypt", key_path(&args.key)?);
    let input = read_input(args.input.as_deref())?;
    let ciphertext = std::str::from_utf8(&input)
        .context("the ciphertext is not text: pass what `strongroom encrypt` printed")?
        .trim();
    if ciphertext.is_empty() {
        bail!("no ciphertext given");
    }
    let body = json!({ "ciphertext": ciphertext });
    let answer = call(&args.conn, Method::POST, &path, Some(&body)).await?;
    if args.conn.json {
        return print_json(&answer);
    }
    let plaintext = Zeroizing::new(unb64("the plaintext", field(&answer, "plaintext")?)?);
    match &args.out {
        Some(out) => crate::fsutil::write_atomic(out, &plaintext, 0o600)?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(&plaintext)
                .and_then(|()| stdout.flush())
                .context("cannot write the plaintext")?;
        }
    }
    Ok(())
}

pub async fn sign(args: SignArgs) -> anyhow::Result<()> {
    let path = format!("{}/sign", key_path(&args.key)?);
    let data = read_input(args.input.as_deref())?;
    let body = json!({
        "data": b64(&data),
        "signingAlgorithm": args.algorithm,
        "isDigest": args.digest,
    });
    let answer = call(&args.conn, Method::POST, &path, Some(&body)).await?;
    if args.conn.json {
        return print_json(&answer);
    }
    println!("{}", field(&answer, "signature")?);
    Ok(())
}

pub async fn verify(args: VerifyArgs) -> anyhow::Result<()> {
    let path = format!("{}/verify", key_path(&args.key)?);
    let signature = match (&args.signature, &args.signature_file) {
        (Some(s), _) => s.trim().to_owned(),
        (None, Some(file)) => std::fs::read_to_string(file)
            .with_context(|| format!("cannot read the signature file {}", file.display()))?
            .trim()
            .to_owned(),
        (None, None) => bail!("pass --signature or --signature-file"),
    };
    // Refuse garbage before sending it.
    unb64("the signature", &signature)?;
    let data = read_input(args.input.as_deref())?;
    let body = json!({
        "data": b64(&data),
        "signature": signature,
        "signingAlgorithm": args.algorithm,
        "isDigest": args.digest,
    });
    let answer = call(&args.conn, Method::POST, &path, Some(&body)).await?;
    let valid = answer.get("signatureValid").and_then(Value::as_bool);
    if args.conn.json {
        print_json(&answer)?;
    } else if valid == Some(true) {
        println!("signature valid");
    }
    match valid {
        Some(true) => Ok(()),
        Some(false) => bail!("the signature is NOT valid"),
        None => bail!("the answer has no signatureValid"),
    }
}
