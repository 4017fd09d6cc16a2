//! Key material: the master key and the per-purpose keys derived from it by HKDF-SHA256
//! (DESIGN §3). Every type here redacts itself in `Debug` and zeroizes on drop.

use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// HKDF info label for the capability-token MAC key.
pub const INFO_TOKEN: &[u8] = b"intentgate token v1";
/// HKDF info label for the session-sealing key.
pub const INFO_SESSION: &[u8] = b"intentgate session v1";
/// HKDF info label for TOTP and channel encryption.
pub const INFO_SECRETS: &[u8] = b"intentgate secrets v1";

/// Minimum length of a master key given as raw bytes.
pub const MIN_MASTER_KEY_BYTES: usize = 32;

/// Why a master key value was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("the key is {0} bytes; it must be 64 hex characters or at least 32 bytes")]
    TooShort(usize),
}

/// The operator's master key. Never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MasterKey(Vec<u8>);

impl MasterKey {
    /// Parse a configured value: exactly 64 hex characters decode to 32 bytes; any other value is
    /// taken as its UTF-8 bytes and must be at least 32 bytes long.
    pub fn parse(value: &str) -> Result<Self, KeyError> {
        let value = value.trim_end_matches(['\n', '\r']);
        if value.len() == 64 {
            if let Ok(bytes) = hex::decode(value) {
                return Ok(Self(bytes));
            }
        }
        if value.len() < MIN_MASTER_KEY_BYTES {
            return Err(KeyError::TooShort(value.len()));
        }
        Ok(Self(value.as_bytes().to_vec()))
    }

    /// A fresh random key, as 64 hex characters (what igd writes to `master.key`).
    pub fn generate_hex() -> String {
        let mut bytes = [0u8; 32];
        rand::Rng::fill(&mut rand::thread_rng(), &mut bytes);
        let text = hex::encode(bytes);
        bytes.zeroize();
        text
    }

    /// Derive a 32-byte key for one purpose.
    pub fn derive(&self, info: &[u8]) -> [u8; 32] {
        let hk = Hkdf::<Sha256>::new(None, &self.0);
        let mut out = [0u8; 32];
        // 32 bytes is always a valid HKDF-SHA256 output length.
        if hk.expand(info, &mut out).is_err() {
            unreachable!("32-byte HKDF output is valid");
        }
        out
    }

    /// The token key derived from this master key.
    pub fn token_key(&self) -> TokenKey {
        TokenKey::from_bytes(self.derive(INFO_TOKEN))
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

/// `K_token` with its key id (`kid` = first 8 hex of SHA-256(K_token)).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct TokenKey {
    key: [u8; 32],
    #[zeroize(skip)]
    kid: String,
}

impl TokenKey {
    pub fn from_bytes(key: [u8; 32]) -> Self {
        let digest = Sha256::digest(key);
        let kid = hex::encode(&digest[..4]);
        Self { key, kid }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.key
    }
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenKey {{ kid: {:?}, key: <redacted> }}", self.kid)
    }
}

/// The keys a verifier accepts: the current one (used to mint) and retired ones (verify only).
#[derive(Clone, Debug)]
pub struct KeyRing {
    current: TokenKey,
    retired: Vec<TokenKey>,
}

impl KeyRing {
    pub fn new(current: TokenKey, retired: Vec<TokenKey>) -> Self {
        Self { current, retired }
    }

    pub fn current(&self) -> &TokenKey {
        &self.current
    }

    pub fn find(&self, kid: &str) -> Option<&TokenKey> {
        std::iter::once(&self.current)
            .chain(self.retired.iter())
            .find(|k| k.kid == kid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_key_decodes_and_short_key_is_refused() {
        let hexkey = "00".repeat(32);
        assert_eq!(MasterKey::parse(&hexkey).unwrap().0, vec![0u8; 32]);
        assert_eq!(
            MasterKey::parse("short").unwrap_err(),
            KeyError::TooShort(5)
        );
        let raw = "x".repeat(40);
        assert_eq!(MasterKey::parse(&raw).unwrap().0, raw.as_bytes());
        // 64 characters that are not hex are taken as bytes.
        let nothex = "z".repeat(64);
        assert_eq!(MasterKey::parse(&nothex).unwrap().0.len(), 64);
    }

    #[test]
    fn debug_is_redacted() {
        let mk = MasterKey::parse(&"ab".repeat(32)).unwrap();
        let tk = mk.token_key();
        assert!(!format!("{mk:?}").contains("ab"));
        let shown = format!("{tk:?}");
        assert!(!shown.contains(&hex::encode(tk.bytes())));
        assert!(shown.contains(tk.kid()));
    }
}
