//! The `_unauthenticated` quota under its earlier path, kept so that `lib.rs` (whose background
//! task calls it) needs no edit while it is being rebuilt. It lives in
//! [`crate::admin::retention`]; the admin API in [`crate::admin`].

pub use crate::admin::retention::enforce_unauthenticated_quota;
