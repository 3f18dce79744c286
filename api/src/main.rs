//! The `strongroom` binary. Everything it does lives in the `api` library;
//! see [`api::cli`].

#![forbid(unsafe_code)]

/// mimalloc instead of glibc's malloc: a request allocates and frees a few
/// dozen small buffers, often on another worker thread than the one that
/// allocated them, and glibc's arenas spend about a tenth of the server's
/// CPU on that under load (measured with `benches/src/bin/api_load`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    api::cli::main()
}
