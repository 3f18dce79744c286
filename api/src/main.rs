//! The `strongroom` binary. Everything it does lives in the `api` library;
//! see [`api::cli`].

#![forbid(unsafe_code)]

/// mimalloc instead of glibc's malloc: a request allocates and frees a few
/// dozen small blocks (headers, JSON, the audit event freed on the writer's
/// thread), and mimalloc's per-thread free lists made the whole server
/// 1.5–2 µs cheaper per request (about 8% more whoami and encrypt requests
/// per second, 3–4% more RSA-2048 signatures; `benches/src/lib.rs`).
/// Built without transparent huge pages (`no_thp`): with them, idle
/// resident memory was 42 MB against glibc's 26 MB; without, 31 MB.
/// Secrets are wiped by `zeroize` before any free, whichever allocator
/// runs, so this changes nothing about key material.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    api::cli::main()
}
