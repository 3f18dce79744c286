//! The `strongroom` binary. Everything it does lives in the `api` library;
//! see [`api::cli`].

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    api::cli::main()
}
