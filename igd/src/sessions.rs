//! MCP session ids (2025 era): minted by igd, carrying their own state sealed with a key derived
//! from the master key (ChaCha20-Poly1305), so any replica and a restarted igd accept them. A
//! session is never authentication: every request still presents its token, and the session
//! must belong to that token's (tenant, root subject).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const PREFIX: &str = "igs1.";
/// Longest session id accepted (bounds work on garbage).
const MAX_ID_LEN: usize = 2048;

/// What a session id carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionState {
    /// Tenant of the token that opened the session.
    pub t: String,
    /// Root subject of that token.
    pub s: String,
    /// Issue time, unix seconds.
    pub i: u64,
    /// Negotiated protocol version.
    pub v: String,
    /// The upstream's own session id for this client session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub u: Option<String>,
}

/// Seals and opens session ids.
pub struct SessionSealer {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for SessionSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionSealer(<key redacted>)")
    }
}

impl SessionSealer {
    pub fn new(key: [u8; 32]) -> Self {
        SessionSealer {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
        }
    }

    pub fn seal(&self, state: &SessionState) -> String {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let plain = serde_json::to_vec(state).unwrap_or_default();
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_slice())
            .unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The state of a genuine id, or `None` for anything igd did not mint.
    pub fn open(&self, id: &str) -> Option<SessionState> {
        if id.len() > MAX_ID_LEN {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(id.strip_prefix(PREFIX)?).ok()?;
        if bytes.len() < 12 + 16 {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(12);
        let plain = self.cipher.decrypt(Nonce::from_slice(nonce), sealed).ok()?;
        serde_json::from_slice(&plain).ok()
    }
}

/// The stored form of a deleted session id.
pub fn id_hash(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_tamper() {
        let s = SessionSealer::new([7; 32]);
        let state = SessionState {
            t: "acme".into(),
            s: "bot".into(),
            i: 5,
            v: "2025-11-25".into(),
            u: Some("up".into()),
        };
        let id = s.seal(&state);
        assert!(id.bytes().all(|b| (0x21..=0x7e).contains(&b)));
        assert_eq!(s.open(&id), Some(state));
        let mut bad = id.clone().into_bytes();
        let n = bad.len() - 3;
        bad[n] = if bad[n] == b'A' { b'B' } else { b'A' };
        assert_eq!(s.open(&String::from_utf8(bad).unwrap()), None);
        assert_eq!(SessionSealer::new([8; 32]).open(&id), None);
        assert_eq!(s.open("igs1.!!"), None);
    }
}
