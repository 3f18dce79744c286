//! # tests — end-to-end tests of the `strongroom` binary
//!
//! The tests in `tests/` start the real binary (api's `src/main.rs`, built by
//! this package as `strongroom-e2e` so that cargo rebuilds it before every
//! test run) in temporary directories, on port 0, and check what an operator
//! or a script would see: exit codes, messages, files and their modes, and
//! the HTTPS endpoints verified against the CA the server wrote.
//!
//! This library is empty; it exists so the package has a target.

#![forbid(unsafe_code)]
