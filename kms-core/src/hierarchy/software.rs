//! The software root of trust (development and evaluation).
