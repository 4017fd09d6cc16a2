//! Identifiers and names shared by every component (DESIGN §1).

use rand::RngCore;

/// A fresh 128-bit random identifier as 32 lowercase hex (jti, event_id, approval and draft ids).
pub fn new_id() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// True for exactly 32 lowercase hex characters.
pub fn is_hex_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Tenant names match `[a-z0-9][a-z0-9-]{0,62}`. Reserved names (`_system`, `_unauthenticated`)
/// do not match and so can never be named by a token or a caller.
pub fn valid_tenant(s: &str) -> bool {
    let bytes = s.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

/// Names of operator accounts and notification channels: `[a-z0-9][a-z0-9._-]{0,62}`.
pub fn valid_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"._-".contains(c))
}

/// The chain that records state-changing admin actions not bound to one tenant.
pub const SYSTEM_TENANT: &str = "_system";
/// The chain that records refusals of tokens that did not verify.
pub const UNAUTHENTICATED_TENANT: &str = "_unauthenticated";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_names() {
        assert!(valid_tenant("default"));
        assert!(valid_tenant("a"));
        assert!(valid_tenant("acme-2"));
        assert!(!valid_tenant(""));
        assert!(!valid_tenant("-acme"));
        assert!(!valid_tenant("_system"));
        assert!(!valid_tenant("Acme"));
        assert!(!valid_tenant(&"a".repeat(64)));
        assert!(valid_tenant(&"a".repeat(63)));
    }

    #[test]
    fn ids() {
        let id = new_id();
        assert!(is_hex_id(&id));
        assert!(!is_hex_id(&id.to_uppercase()));
        assert!(!is_hex_id(&id[1..]));
    }
}
