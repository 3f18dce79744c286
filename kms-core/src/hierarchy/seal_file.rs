//! The sealed-root file in the data directory.
