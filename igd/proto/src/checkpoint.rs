//! Signed checkpoints (DESIGN §5): a C2SP signed note over a C2SP-style checkpoint body.
//!
//! ```text
//! intentgate/<deployment id>/<tenant>      origin
//! <size>                                   the chain's last seq
//! <base64 head hash>
//!
//! — intentgate/<deployment id> <base64(key id ‖ Ed25519 signature)>
//! ```
//!
//! The key id is the first 4 bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key); a verifier key is
//! written `name+<hex key id>+<base64(0x01 ‖ public key)>`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

const ALG_ED25519: u8 = 0x01;
const SIG_PREFIX: &str = "\u{2014} ";

/// Why a note or key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("malformed note: {0}")]
    Malformed(String),
    #[error("malformed verifier key: {0}")]
    BadKey(String),
    #[error("no signature by a trusted key")]
    Untrusted,
    #[error("signature does not verify")]
    BadSignature,
}

/// A public key that checkpoints are verified against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    pub name: String,
    pub id: [u8; 4],
    pub key: VerifyingKey,
}

impl VerifierKey {
    pub fn new(name: &str, key: VerifyingKey) -> Self {
        VerifierKey {
            name: name.to_string(),
            id: key_id(name, &key),
            key,
        }
    }

    /// `name+hexid+base64(0x01 ‖ key)`
    pub fn encode(&self) -> String {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(self.id),
            STANDARD.encode(raw)
        )
    }

    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let text = text.trim();
        // Key names never contain '+'; the base64 key may.
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(NoteError::BadKey("expected name+keyid+key".into()));
        };
        let raw = STANDARD
            .decode(b64)
            .map_err(|_| NoteError::BadKey("key is not base64".into()))?;
        if raw.len() != 33 || raw[0] != ALG_ED25519 {
            return Err(NoteError::BadKey("not an Ed25519 key".into()));
        }
        let bytes: [u8; 32] = raw[1..]
            .try_into()
            .map_err(|_| NoteError::BadKey("key length".into()))?;
        let key = VerifyingKey::from_bytes(&bytes)
            .map_err(|_| NoteError::BadKey("invalid Ed25519 point".into()))?;
        let vk = VerifierKey::new(name, key);
        if hex::encode(vk.id) != id_hex {
            return Err(NoteError::BadKey("key id does not match the key".into()));
        }
        Ok(vk)
    }
}

/// First 4 bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ key).
pub fn key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ALG_ED25519]);
    h.update(key.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// A checkpoint's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    /// Head hash as lowercase hex (as in entries).
    pub hash: String,
}

impl Checkpoint {
    /// The note body: origin, size, base64 hash, each on its own line.
    pub fn body(&self) -> Result<String, NoteError> {
        let raw =
            hex::decode(&self.hash).map_err(|_| NoteError::Malformed("hash is not hex".into()))?;
        Ok(format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(raw)
        ))
    }

    fn parse_body(body: &str) -> Result<Self, NoteError> {
        let mut lines = body.lines();
        let origin = lines
            .next()
            .filter(|l| !l.is_empty())
            .ok_or_else(|| NoteError::Malformed("no origin".into()))?;
        let size = lines
            .next()
            .and_then(|l| {
                if l == "0" || !l.starts_with('0') {
                    l.parse().ok()
                } else {
                    None
                }
            })
            .ok_or_else(|| NoteError::Malformed("size is not a decimal number".into()))?;
        let hash = lines
            .next()
            .and_then(|l| STANDARD.decode(l).ok())
            .filter(|h| h.len() == 32)
            .ok_or_else(|| NoteError::Malformed("hash is not base64 of 32 bytes".into()))?;
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            hash: hex::encode(hash),
        })
    }

    /// Sign as a note under `name`.
    pub fn sign(&self, name: &str, key: &SigningKey) -> Result<String, NoteError> {
        let body = self.body()?;
        let sig = key.sign(body.as_bytes());
        let id = key_id(name, &key.verifying_key());
        let mut blob = id.to_vec();
        blob.extend_from_slice(&sig.to_bytes());
        Ok(format!(
            "{body}\n{SIG_PREFIX}{name} {}\n",
            STANDARD.encode(blob)
        ))
    }

    /// Open a signed note with any of `keys`; the content is returned only if a trusted key's
    /// signature verifies.
    pub fn open(note: &str, keys: &[VerifierKey]) -> Result<Self, NoteError> {
        let split = note
            .find("\n\n")
            .ok_or_else(|| NoteError::Malformed("no blank line before signatures".into()))?;
        let (body, sigs) = (&note[..split + 1], &note[split + 2..]);
        if !note.ends_with('\n') {
            return Err(NoteError::Malformed("note must end with a newline".into()));
        }
        let mut saw_trusted = false;
        for line in sigs.lines() {
            let rest = line
                .strip_prefix(SIG_PREFIX)
                .ok_or_else(|| NoteError::Malformed("signature line".into()))?;
            let (name, b64) = rest
                .rsplit_once(' ')
                .ok_or_else(|| NoteError::Malformed("signature line".into()))?;
            let blob = STANDARD
                .decode(b64)
                .map_err(|_| NoteError::Malformed("signature is not base64".into()))?;
            if blob.len() != 68 {
                continue;
            }
            let Some(k) = keys
                .iter()
                .find(|k| k.name == name && k.id[..] == blob[..4])
            else {
                continue;
            };
            saw_trusted = true;
            let sig = ed25519_dalek::Signature::from_slice(&blob[4..])
                .map_err(|_| NoteError::BadSignature)?;
            if k.key.verify(body.as_bytes(), &sig).is_ok() {
                return Self::parse_body(body);
            }
        }
        Err(if saw_trusted {
            NoteError::BadSignature
        } else {
            NoteError::Untrusted
        })
    }
}

/// PKCS#8 v1 PEM of an Ed25519 key, byte for byte what `openssl genpkey -algorithm ed25519`
/// writes (OpenSSL 3.0 does not read the v2 form with the public key).
pub fn signing_key_pem(key: &SigningKey) -> String {
    const PREFIX: [u8; 16] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    let mut der = PREFIX.to_vec();
    der.extend_from_slice(&key.to_bytes());
    let b64 = STANDARD.encode(&der);
    format!("-----BEGIN PRIVATE KEY-----\n{b64}\n-----END PRIVATE KEY-----\n")
}

/// Parse a PKCS#8 PEM Ed25519 private key (v1 or v2).
pub fn signing_key_from_pem(pem: &str) -> Result<SigningKey, NoteError> {
    use ed25519_dalek::pkcs8::DecodePrivateKey;
    SigningKey::from_pkcs8_pem(pem)
        .map_err(|e| NoteError::BadKey(format!("not a PKCS#8 Ed25519 PEM key: {e}")))
}

/// A fresh audit signing key as PEM (what `igctl gen-key --audit` prints) and its public key.
pub fn generate_signing_key_pem() -> (String, VerifyingKey) {
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    (signing_key_pem(&key), key.verifying_key())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn verifier_keys_with_plus_in_base64_round_trip() {
        for seed in 0..64u8 {
            let vk = VerifierKey::new("intentgate/d1", key(seed).verifying_key());
            assert_eq!(VerifierKey::parse(&vk.encode()).unwrap(), vk);
        }
    }

    #[test]
    fn sign_open_and_tamper() {
        let cp = Checkpoint {
            origin: "intentgate/d1/acme".into(),
            size: 42,
            hash: "ab".repeat(32),
        };
        let sk = key(1);
        let vk = VerifierKey::new("intentgate/d1", sk.verifying_key());
        let note = cp.sign("intentgate/d1", &sk).unwrap();
        assert!(note.starts_with("intentgate/d1/acme\n42\n"));
        assert_eq!(
            Checkpoint::open(&note, std::slice::from_ref(&vk)).unwrap(),
            cp
        );
        assert_eq!(VerifierKey::parse(&vk.encode()).unwrap(), vk);
        let other = VerifierKey::new("intentgate/d1", key(2).verifying_key());
        assert_eq!(Checkpoint::open(&note, &[other]), Err(NoteError::Untrusted));
        let forged = note.replacen("\n42\n", "\n43\n", 1);
        assert_eq!(
            Checkpoint::open(&forged, std::slice::from_ref(&vk)),
            Err(NoteError::BadSignature)
        );
        let pem = signing_key_pem(&sk);
        assert_eq!(
            signing_key_from_pem(&pem).unwrap().to_bytes(),
            sk.to_bytes()
        );
        let mut bad = vk.encode();
        bad.replace_range(bad.len() - 3.., "AAA");
        assert!(VerifierKey::parse(&bad).is_err() || VerifierKey::parse(&bad).unwrap() != vk);
    }

    #[test]
    fn verifier_keys_of_another_algorithm_or_empty_are_refused() {
        let vk = VerifierKey::new("intentgate/d1", key(3).verifying_key());
        let mut raw = vec![0x02u8];
        raw.extend_from_slice(vk.key.as_bytes());
        let id = hex::encode(vk.id);
        let other_alg = format!("intentgate/d1+{id}+{}", STANDARD.encode(&raw));
        assert!(matches!(
            VerifierKey::parse(&other_alg),
            Err(NoteError::BadKey(_))
        ));
        assert!(matches!(
            VerifierKey::parse(&format!("intentgate/d1+{id}+")),
            Err(NoteError::BadKey(_))
        ));
    }

    #[test]
    fn a_size_with_leading_zeros_is_refused_even_when_signed() {
        let sk = key(4);
        let vk = VerifierKey::new("intentgate/d1", sk.verifying_key());
        let sign = |body: &str| {
            let mut blob = vk.id.to_vec();
            blob.extend_from_slice(&sk.sign(body.as_bytes()).to_bytes());
            format!(
                "{body}\n{SIG_PREFIX}intentgate/d1 {}\n",
                STANDARD.encode(blob)
            )
        };
        let hash = STANDARD.encode([0xabu8; 32]);
        let honest = sign(&format!("intentgate/d1/acme\n42\n{hash}\n"));
        assert_eq!(
            Checkpoint::open(&honest, std::slice::from_ref(&vk)).map(|c| c.size),
            Ok(42)
        );
        let padded = sign(&format!("intentgate/d1/acme\n042\n{hash}\n"));
        assert!(matches!(
            Checkpoint::open(&padded, std::slice::from_ref(&vk)),
            Err(NoteError::Malformed(_))
        ));
    }

    #[test]
    fn generated_signing_keys_are_fresh_and_round_trip_through_pem() {
        let (pem_a, pub_a) = generate_signing_key_pem();
        let (pem_b, pub_b) = generate_signing_key_pem();
        assert_ne!(pub_a, pub_b, "two generated keys are different");
        assert_eq!(
            signing_key_from_pem(&pem_a).map(|k| k.verifying_key()),
            Ok(pub_a)
        );
        assert_eq!(
            signing_key_from_pem(&pem_b).map(|k| k.verifying_key()),
            Ok(pub_b)
        );
    }
}

/// The rotation trust path (DESIGN §5): keys announced by `checkpoint-key` entries of `_system`
/// become trusted when their entry is covered by a `_system` checkpoint signed by an
/// already-trusted key and the chain up to it verifies. Feed the `_system` chain from genesis
/// with [`KeyVouching::push`] (it says when it has seen enough), then [`KeyVouching::finish`].
#[derive(Debug)]
pub struct KeyVouching {
    size: u64,
    audit: crate::audit::ChainAudit,
    announced: Vec<VerifierKey>,
}

impl KeyVouching {
    /// Vouch with `checkpoint`, a `_system` checkpoint already opened with trusted keys.
    pub fn new(checkpoint: &Checkpoint) -> Self {
        KeyVouching {
            size: checkpoint.size,
            audit: crate::audit::ChainAudit::new(
                crate::ids::SYSTEM_TENANT,
                vec![crate::audit::Anchor {
                    size: checkpoint.size,
                    hash: checkpoint.hash.clone(),
                }],
            ),
            announced: Vec::new(),
        }
    }

    /// Take the next `_system` entry; false once the entries past the checkpoint are reached or
    /// the chain is broken (feed no more).
    pub fn push(&mut self, e: &crate::audit::Entry) -> bool {
        if e.seq > self.size {
            return false;
        }
        if e.is(crate::audit::Kind::CheckpointKey) {
            if let Some(k) = e.target.as_deref().and_then(|t| VerifierKey::parse(t).ok()) {
                self.announced.push(k);
            }
        }
        self.audit.push(e)
    }

    /// The keys the checkpoint vouches for, or none when the chain up to it does not verify
    /// against it.
    pub fn finish(self) -> Vec<VerifierKey> {
        let report = self.audit.finish();
        if report.ok && report.checkpoint.verified {
            self.announced
        } else {
            Vec::new()
        }
    }
}
