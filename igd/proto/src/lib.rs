//! `intentgate-proto`: the formats IntentGate's daemon, CLI and Rust agents share.
//!
//! - [`token`]: capability tokens (mint, verify, attenuate), DESIGN §3.
//! - [`keys`]: the master key and HKDF-derived per-purpose keys.
//! - [`api`]: admin-API wire types and error codes, DESIGN §6.
//! - [`audit`]: audit-entry canonical encoding and chain verification, DESIGN §5.
//! - [`ids`]: identifiers and tenant names.
//! - [`policy`]: Rego policies — prepare, evaluate, safety rules, test runner (DESIGN §4.3).
//! - [`text`]: control characters made visible before text reaches a terminal.

pub mod api;
pub mod audit;
pub mod checkpoint;
pub mod ids;
pub mod keys;
pub mod policy;
pub mod text;
pub mod token;
