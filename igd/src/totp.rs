//! TOTP step-up (DESIGN §6): enrollment secrets sealed at rest, code verification with the
//! one-use-per-step guard, recovery codes, and the failure lock-out.
//!
//! RFC 6238 with SHA-1, 6 digits, 30 s steps, ±1 step of clock skew. Each step of an identity
//! can be used once, across replicas ([`Store::use_totp_step`] is the atomic guard), so a code
//! seen over a shoulder or in a log cannot be replayed. Five failed codes within 120 s lock the
//! identity for 30 s from the fifth. A replayed (correct but used) code is refused without
//! counting as a failure: it proves the secret, not a guess.
//!
//! Secrets are sealed with AES-256-GCM (random 96-bit nonce ‖ ciphertext ‖ tag), the identity
//! as associated data so a sealed secret copied onto another identity's row does not open.
//! The key is `INTENTGATE_TOTP_ENCRYPTION_KEY` (64 hex characters, or any text of 32+ bytes,
//! stretched with HKDF-SHA256) or, unset, HKDF-SHA256(master key, "intentgate totp v1").
//! The admin API around this (who must step up, what is audited) is `admin::totp`.
//!
//! [`Store::use_totp_step`]: crate::store::Store::use_totp_step

use crate::config::Secret;
use crate::store::{DynStore, StoreError, TotpRecord};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use intentgate_proto::keys::{KeyError, MasterKey};
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// HKDF info label of the TOTP sealing key.
pub const INFO_TOTP: &[u8] = b"intentgate totp v1";
/// Seconds per TOTP step.
pub const STEP_SECONDS: i64 = 30;
/// Digits per code.
pub const DIGITS: usize = 6;
/// Failed codes within [`FAILURE_WINDOW_SECS`] that lock an identity.
pub const MAX_FAILURES: usize = 5;
pub const FAILURE_WINDOW_SECS: i64 = 120;
/// How long the lock-out lasts, from the failure that caused it.
pub const LOCKOUT_SECS: i64 = 30;
/// Recovery codes issued at confirmation.
pub const RECOVERY_CODES: usize = 10;
/// Bytes of a generated secret (160 bits, RFC 4226's recommendation).
const SECRET_BYTES: usize = 20;
const NONCE_BYTES: usize = 12;
/// Recovery code alphabet: lower-case letters and digits without look-alikes (0/o, 1/l/i).
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
const US: i64 = 1_000_000;

/// The AES-256-GCM key that seals TOTP secrets. Never printed; zeroized on drop.
#[derive(Clone)]
pub struct SealingKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealingKey(<redacted>)")
    }
}

impl SealingKey {
    /// From `INTENTGATE_TOTP_ENCRYPTION_KEY`: 64 hex characters or 32+ bytes of text, like the
    /// master key, stretched with HKDF so both forms give a uniform 256-bit key.
    pub fn from_configured(value: &str) -> Result<SealingKey, KeyError> {
        Ok(SealingKey::derived(&MasterKey::parse(value)?, INFO_TOTP))
    }

    /// The default: derived from the master key.
    pub fn from_master(master: &MasterKey) -> SealingKey {
        SealingKey::derived(master, INFO_TOTP)
    }

    /// The key `base` gives under the HKDF label `info` (each kind of sealed secret has its
    /// own label, so one kind's key opens nothing of another's).
    pub fn derived(base: &MasterKey, info: &[u8]) -> SealingKey {
        SealingKey(Zeroizing::new(base.derive(info)))
    }

    /// A key no stored secret was sealed under (fails closed: it opens nothing).
    pub fn random() -> SealingKey {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::thread_rng().fill_bytes(bytes.as_mut_slice());
        SealingKey(bytes)
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(aes_gcm::Key::<Aes256Gcm>::from_slice(self.0.as_slice()))
    }

    /// Seal `plaintext` for `identity`: nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, identity: &str, plaintext: &[u8]) -> Vec<u8> {
        self.seal_bound(identity.as_bytes(), plaintext)
    }

    /// Open what [`seal`](Self::seal) sealed for `identity`; `None` when it was altered, sealed
    /// for another identity, or under another key.
    pub fn unseal(&self, identity: &str, sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        self.unseal_bound(identity.as_bytes(), sealed)
    }

    /// Seal `plaintext` bound to `aad` (AES-256-GCM): nonce ‖ ciphertext ‖ tag. It opens only
    /// with the same key and the same `aad`.
    pub fn seal_bound(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::thread_rng().fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plaintext,
            aad,
        };
        // Encryption with a valid key and a short message cannot fail.
        let ciphertext = self
            .cipher()
            .encrypt(Nonce::from_slice(&nonce), payload)
            .unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE_BYTES + ciphertext.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    /// Open what [`seal_bound`](Self::seal_bound) sealed with `aad`; `None` when it was
    /// altered, bound to something else, or sealed under another key.
    pub fn unseal_bound(&self, aad: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if sealed.len() <= NONCE_BYTES {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
        let payload = Payload {
            msg: ciphertext,
            aad,
        };
        self.cipher()
            .decrypt(Nonce::from_slice(nonce), payload)
            .ok()
            .map(Zeroizing::new)
    }
}

/// The 6-digit code of `secret` at time step `step` (RFC 6238 with SHA-1).
pub fn code_at(secret: &[u8], step: i64) -> String {
    let totp = totp_rs::TOTP::new_unchecked(
        totp_rs::Algorithm::SHA1,
        DIGITS,
        1,
        STEP_SECONDS.unsigned_abs(),
        secret.to_vec(),
        None,
        String::new(),
    );
    totp.generate(step.max(0).unsigned_abs() * STEP_SECONDS.unsigned_abs())
}

/// Base32 (RFC 4648, no padding) of a secret, as authenticator apps take it.
pub fn base32(secret: &[u8]) -> String {
    match totp_rs::Secret::Raw(secret.to_vec()).to_encoded() {
        totp_rs::Secret::Encoded(s) => s.trim_end_matches('=').to_string(),
        totp_rs::Secret::Raw(_) => String::new(),
    }
}

/// The `otpauth://` URI an authenticator app scans.
pub fn otpauth_uri(identity: &str, secret_base32: &str) -> String {
    format!(
        "otpauth://totp/IntentGate:{}?secret={secret_base32}&issuer=IntentGate&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        percent_encode(identity)
    )
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A fresh recovery code, `xxxxx-xxxxx` (10 characters of a 31-letter alphabet, ~49 bits).
pub fn new_recovery_code() -> String {
    let mut rng = rand::thread_rng();
    let mut code = String::with_capacity(11);
    for i in 0..10 {
        if i == 5 {
            code.push('-');
        }
        let idx = rng.gen_range(0..RECOVERY_ALPHABET.len());
        code.push(char::from(RECOVERY_ALPHABET[idx]));
    }
    code
}

/// The canonical form of a presented recovery code (case, dashes and spaces ignored), if it
/// has the shape of one.
pub fn normalize_recovery_code(presented: &str) -> Option<String> {
    let code: String = presented
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (code.len() == 10 && code.bytes().all(|b| RECOVERY_ALPHABET.contains(&b))).then_some(code)
}

/// `sha256:<hex>` of a recovery code's canonical form, as stored.
pub fn recovery_hash(canonical: &str) -> String {
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    )
}

/// Until when (µs) failures at `failures` (ascending µs) lock an identity: 30 s after any
/// failure that is the fifth within 120 s. `None` when they never did.
pub fn locked_until(failures: &[i64]) -> Option<i64> {
    let window = FAILURE_WINDOW_SECS * US;
    failures
        .windows(MAX_FAILURES)
        .filter(|w| w[MAX_FAILURES - 1] - w[0] <= window)
        .map(|w| w[MAX_FAILURES - 1] + LOCKOUT_SECS * US)
        .max()
}

/// How a step-up was passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Passed {
    Code,
    RecoveryCode,
}

/// Why a presented code was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("no confirmed TOTP enrollment")]
    NotEnrolled,
    #[error("TOTP enrollment is already confirmed")]
    AlreadyConfirmed,
    #[error("locked out for {seconds_left} s after {MAX_FAILURES} failed codes")]
    Locked { seconds_left: i64 },
    /// Wrong; `locked_for` when this failure started a lock-out.
    #[error("wrong code")]
    Wrong { locked_for: Option<i64> },
    #[error("code already used")]
    Replayed,
    #[error("the stored TOTP secret cannot be opened (INTENTGATE_TOTP_ENCRYPTION_KEY or the master key changed?)")]
    Unreadable,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new enrollment's secret (shown once).
pub struct NewSecret {
    pub base32: String,
    pub otpauth_uri: String,
}

impl fmt::Debug for NewSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewSecret(<redacted>)")
    }
}

/// The TOTP service: owns the sealing key and the store handle it checks codes against.
#[derive(Debug, Clone)]
pub struct TotpService {
    key: SealingKey,
    store: DynStore,
}

impl TotpService {
    /// `configured` is `INTENTGATE_TOTP_ENCRYPTION_KEY` (validated when settings were loaded).
    pub fn new(store: DynStore, configured: Option<&Secret>, master: &MasterKey) -> TotpService {
        let key = match configured.map(|s| SealingKey::from_configured(s.expose())) {
            None => SealingKey::from_master(master),
            Some(Ok(key)) => key,
            Some(Err(e)) => {
                // Settings refuse such a value at start; if one got here anyway, fail closed:
                // a random key opens no stored secret, so every step-up is refused.
                tracing::error!(error = %e, "INTENTGATE_TOTP_ENCRYPTION_KEY is unusable; step-up will fail");
                let mut bytes = [0u8; 32];
                rand::thread_rng().fill_bytes(&mut bytes);
                SealingKey(Zeroizing::new(bytes))
            }
        };
        TotpService { key, store }
    }

    /// Start a new (unconfirmed) enrollment for `identity`, replacing any earlier one.
    pub async fn enroll(&self, identity: &str, now: i64) -> Result<NewSecret, StoreError> {
        let mut secret = Zeroizing::new([0u8; SECRET_BYTES]);
        rand::thread_rng().fill_bytes(secret.as_mut());
        let rec = TotpRecord {
            identity: identity.to_string(),
            secret_sealed: self.key.seal(identity, secret.as_ref()),
            confirmed: false,
            recovery_hashes: Vec::new(),
            created_at: now,
        };
        self.store.put_totp(&rec).await?;
        let base32 = base32(secret.as_ref());
        Ok(NewSecret {
            otpauth_uri: otpauth_uri(identity, &base32),
            base32,
        })
    }

    /// Whether `identity` has a confirmed enrollment.
    pub async fn enrolled(&self, identity: &str) -> Result<bool, StoreError> {
        Ok(self
            .store
            .totp(identity)
            .await?
            .is_some_and(|r| r.confirmed))
    }

    /// Confirm a pending enrollment with its first code (which uses its step). Returns the
    /// recovery codes, in clear, for the one answer that shows them.
    pub async fn confirm(
        &self,
        identity: &str,
        code: &str,
        now: i64,
    ) -> Result<Vec<String>, Refusal> {
        let rec = self
            .store
            .totp(identity)
            .await?
            .ok_or(Refusal::NotEnrolled)?;
        if rec.confirmed {
            return Err(Refusal::AlreadyConfirmed);
        }
        self.check_lock(identity, now).await?;
        self.check_code(&rec, code, now).await?;
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
        let hashes: Vec<String> = codes
            .iter()
            .filter_map(|c| normalize_recovery_code(c))
            .map(|c| recovery_hash(&c))
            .collect();
        if !self.store.confirm_totp(identity, &hashes).await? {
            return Err(Refusal::AlreadyConfirmed);
        }
        Ok(codes)
    }

    /// Check a step-up code (or a recovery code) of `identity`.
    pub async fn verify(&self, identity: &str, code: &str, now: i64) -> Result<Passed, Refusal> {
        let rec = self
            .store
            .totp(identity)
            .await?
            .filter(|r| r.confirmed)
            .ok_or(Refusal::NotEnrolled)?;
        self.check_lock(identity, now).await?;
        let code = code.trim();
        if code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit()) {
            self.check_code(&rec, code, now).await?;
            return Ok(Passed::Code);
        }
        if let Some(canonical) = normalize_recovery_code(code) {
            if self
                .store
                .use_recovery_code(identity, &recovery_hash(&canonical))
                .await?
            {
                return Ok(Passed::RecoveryCode);
            }
        }
        Err(self.failed(identity, now).await?)
    }

    async fn check_lock(&self, identity: &str, now: i64) -> Result<(), Refusal> {
        let since = now - (FAILURE_WINDOW_SECS + LOCKOUT_SECS) * US;
        let failures = self.store.totp_failures(identity, since).await?;
        match locked_until(&failures) {
            Some(until) if until > now => Err(Refusal::Locked {
                seconds_left: (until - now + US - 1) / US,
            }),
            _ => Ok(()),
        }
    }

    /// A 6-digit code against steps t−1, t, t+1; the matching step is used up.
    async fn check_code(&self, rec: &TotpRecord, code: &str, now: i64) -> Result<(), Refusal> {
        let secret = self
            .key
            .unseal(&rec.identity, &rec.secret_sealed)
            .ok_or(Refusal::Unreadable)?;
        let current = now.div_euclid(STEP_SECONDS * US);
        let mut matched = None;
        // Every candidate is computed and compared: timing does not tell which step matched.
        for step in [current - 1, current, current + 1] {
            let candidate = code_at(&secret, step);
            if bool::from(candidate.as_bytes().ct_eq(code.as_bytes())) && matched.is_none() {
                matched = Some(step);
            }
        }
        match matched {
            Some(step) => {
                if self.store.use_totp_step(&rec.identity, step).await? {
                    Ok(())
                } else {
                    Err(Refusal::Replayed)
                }
            }
            None => Err(self.failed(&rec.identity, now).await?),
        }
    }

    /// Record a failure and say whether it locked the identity.
    async fn failed(&self, identity: &str, now: i64) -> Result<Refusal, StoreError> {
        self.store.record_totp_failure(identity, now).await?;
        let since = now - (FAILURE_WINDOW_SECS + LOCKOUT_SECS) * US;
        let failures = self.store.totp_failures(identity, since).await?;
        let locked_for = locked_until(&failures)
            .filter(|until| *until > now)
            .map(|until| (until - now + US - 1) / US);
        Ok(Refusal::Wrong { locked_for })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc6238_sha1_vectors() {
        // RFC 6238 appendix B (8 digits), truncated to our 6.
        for (t, eight) in [
            (59_i64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ] {
            assert_eq!(code_at(RFC_SECRET, t / STEP_SECONDS), eight[2..], "T={t}");
        }
    }

    #[test]
    fn otpauth_uri_names_the_identity() {
        let b32 = base32(RFC_SECRET);
        assert_eq!(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(
            otpauth_uri("uid:0", &b32),
            "otpauth://totp/IntentGate:uid%3A0?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=IntentGate&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn seal_round_trip_and_tampering() {
        let key = SealingKey::from_configured(&"ab".repeat(32)).unwrap();
        let sealed = key.seal("alice", RFC_SECRET);
        assert_eq!(sealed.len(), NONCE_BYTES + RFC_SECRET.len() + 16);
        assert_eq!(key.unseal("alice", &sealed).unwrap().as_slice(), RFC_SECRET);
        // Another identity's row, a flipped bit anywhere, another key, or a stub: refused.
        assert!(key.unseal("bob", &sealed).is_none());
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert!(key.unseal("alice", &bad).is_none(), "byte {i}");
        }
        let other = SealingKey::from_configured(&"cd".repeat(32)).unwrap();
        assert!(other.unseal("alice", &sealed).is_none());
        assert!(key.unseal("alice", &sealed[..NONCE_BYTES]).is_none());
        // Fresh nonce each time.
        assert_ne!(key.seal("alice", RFC_SECRET), sealed);
    }

    #[test]
    fn configured_key_must_be_long_enough() {
        assert!(SealingKey::from_configured("short").is_err());
        assert!(SealingKey::from_configured(&"x".repeat(32)).is_ok());
    }

    #[test]
    fn recovery_codes() {
        let code = new_recovery_code();
        assert_eq!(code.len(), 11);
        assert_eq!(code.as_bytes()[5], b'-');
        let canonical = normalize_recovery_code(&code).unwrap();
        assert_eq!(
            normalize_recovery_code(&code.to_uppercase()),
            Some(canonical.clone())
        );
        assert!(recovery_hash(&canonical).starts_with("sha256:"));
        assert_eq!(normalize_recovery_code("123456"), None);
        assert_eq!(normalize_recovery_code("abcde-fghi0"), None);
    }

    #[test]
    fn lockout_after_five_failures_in_two_minutes() {
        let s = |x: i64| x * US;
        assert_eq!(locked_until(&[s(0), s(1), s(2), s(3)]), None);
        assert_eq!(
            locked_until(&[s(0), s(1), s(2), s(3), s(4)]),
            Some(s(4 + LOCKOUT_SECS))
        );
        // Spread over more than 120 s: no lock-out.
        assert_eq!(locked_until(&[s(0), s(40), s(80), s(120), s(121)]), None);
        // The latest qualifying failure decides.
        assert_eq!(
            locked_until(&[s(0), s(1), s(2), s(3), s(4), s(60)]),
            Some(s(60 + LOCKOUT_SECS))
        );
    }
}
