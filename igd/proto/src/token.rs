//! Capability tokens (DESIGN §3): a chained-HMAC token whose blocks can only narrow rights.
//!
//! ```text
//! "ig1." + base64url(0x01 ‖ block₀ ‖ … ‖ blockₙ ‖ tagₙ)
//! block = u16be length ‖ UTF-8 JSON object
//! tag₀ = HMAC-SHA256(K_token, block₀); tagᵢ = HMAC-SHA256(tagᵢ₋₁, blockᵢ)
//! ```
//!
//! Verification MACs exactly the received block bytes, never a re-encoding, so a token cannot be
//! made to mean something else by a different but "equivalent" JSON encoding.

use crate::ids::{is_hex_id, valid_tenant};
use crate::keys::{KeyRing, TokenKey};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::BTreeSet;
use std::fmt;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Text prefix of every token of format version 1.
pub const TOKEN_PREFIX: &str = "ig1.";
/// The first payload byte.
pub const FORMAT_VERSION: u8 = 0x01;
/// At most this many attenuation blocks after the root.
pub const MAX_CHILD_BLOCKS: usize = 8;
/// Largest JSON block.
pub const MAX_BLOCK_BYTES: usize = 4096;
/// Largest decoded payload.
pub const MAX_PAYLOAD_BYTES: usize = 16 * 1024;
/// Largest text form: prefix plus unpadded base64 of the largest payload.
pub const MAX_TOKEN_TEXT: usize = TOKEN_PREFIX.len() + (MAX_PAYLOAD_BYTES * 4).div_ceil(3);
/// Longest subject or tool name.
pub const MAX_NAME_LEN: usize = 256;
/// Most tools one block may list.
pub const MAX_TOOLS: usize = 256;
const TAG_LEN: usize = 32;

/// Why a token was refused. Messages never contain the token, its tag or a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token: {0}")]
    Malformed(String),
    #[error("token is too large")]
    TooLarge,
    #[error("unsupported token format version")]
    UnsupportedVersion,
    #[error("token signature does not verify")]
    BadSignature,
    #[error("token was signed with an unknown key (kid {0})")]
    UnknownKid(String),
    #[error("token expired")]
    Expired,
    #[error("attenuation widens rights: {0}")]
    Widening(String),
    #[error("token chain is deeper than {MAX_CHILD_BLOCKS} attenuations")]
    TooDeep,
    #[error("jti {0} appears twice in the chain")]
    DuplicateJti(String),
    #[error("invalid claims: {0}")]
    InvalidClaims(String),
}

/// Claims of the root block, written by igd at mint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootClaims {
    pub kid: String,
    pub jti: String,
    pub tenant: String,
    pub sub: String,
    pub tools: Vec<String>,
    pub max_calls: u64,
    pub iat: u64,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all_tools: bool,
}

/// Claims of an attenuation block: every field can only narrow.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChildClaims {
    pub jti: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_calls: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
}

/// A set of tool names, or every tool (`["*"]` in an `all_tools` root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolSet {
    All,
    Only(BTreeSet<String>),
}

impl ToolSet {
    pub fn contains(&self, tool: &str) -> bool {
        match self {
            ToolSet::All => true,
            ToolSet::Only(set) => set.contains(tool),
        }
    }

    /// True when every tool of `other` is in `self`.
    pub fn includes(&self, other: &ToolSet) -> bool {
        match (self, other) {
            (ToolSet::All, _) => true,
            (ToolSet::Only(_), ToolSet::All) => false,
            (ToolSet::Only(a), ToolSet::Only(b)) => b.is_subset(a),
        }
    }

    /// The listed form (`["*"]` for all).
    pub fn to_list(&self) -> Vec<String> {
        match self {
            ToolSet::All => vec!["*".to_string()],
            ToolSet::Only(set) => set.iter().cloned().collect(),
        }
    }

    fn from_list(tools: &[String]) -> ToolSet {
        if tools.iter().any(|t| t == "*") {
            ToolSet::All
        } else {
            ToolSet::Only(tools.iter().cloned().collect())
        }
    }
}

/// The rights left after folding every block of a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveRights {
    pub tools: ToolSet,
    pub max_calls: u64,
    pub exp: u64,
}

impl EffectiveRights {
    fn of_root(root: &RootClaims) -> Self {
        EffectiveRights {
            tools: ToolSet::from_list(&root.tools),
            max_calls: root.max_calls,
            exp: root.exp,
        }
    }

    /// Apply one child block, refusing anything that would widen.
    pub fn narrow(&self, child: &ChildClaims) -> Result<Self, TokenError> {
        let mut next = self.clone();
        if let Some(tools) = &child.tools {
            // Only a root minted with all_tools may say "*"; in a child it is refused, never
            // read as "everything the parent has".
            if tools.iter().any(|t| t == "*") {
                return Err(TokenError::InvalidClaims(
                    "a child block cannot list \"*\"; name the tools".into(),
                ));
            }
            let outside: Vec<&String> = tools.iter().filter(|t| !self.tools.contains(t)).collect();
            if !outside.is_empty() {
                return Err(TokenError::Widening(format!(
                    "tools {outside:?} are outside the current scope"
                )));
            }
            next.tools = ToolSet::Only(tools.iter().cloned().collect());
        }
        if let Some(max) = child.max_calls {
            if max > self.max_calls {
                return Err(TokenError::Widening(format!(
                    "max_calls {max} exceeds the current {}",
                    self.max_calls
                )));
            }
            next.max_calls = max;
        }
        if let Some(exp) = child.exp {
            if exp > self.exp {
                return Err(TokenError::Widening(format!(
                    "exp {exp} is later than the current {}",
                    self.exp
                )));
            }
            next.exp = exp;
        }
        Ok(next)
    }
}

/// A token split into its raw blocks and tag; nothing verified yet.
#[derive(Clone)]
pub struct RawToken {
    blocks: Vec<Vec<u8>>,
    tag: [u8; TAG_LEN],
}

impl fmt::Debug for RawToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RawToken {{ blocks: {}, tag: <redacted> }}",
            self.blocks.len()
        )
    }
}

impl RawToken {
    /// Split a token's text form. Checks structure and limits, not the MAC.
    pub fn decode(text: &str) -> Result<Self, TokenError> {
        if text.len() > MAX_TOKEN_TEXT {
            return Err(TokenError::TooLarge);
        }
        let body = text
            .strip_prefix(TOKEN_PREFIX)
            .ok_or_else(|| TokenError::Malformed("missing ig1. prefix".into()))?;
        let payload = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| TokenError::Malformed("not base64url without padding".into()))?;
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(TokenError::TooLarge);
        }
        let (&version, rest) = payload
            .split_first()
            .ok_or_else(|| TokenError::Malformed("empty payload".into()))?;
        if version != FORMAT_VERSION {
            return Err(TokenError::UnsupportedVersion);
        }
        if rest.len() < TAG_LEN {
            return Err(TokenError::Malformed("payload shorter than its tag".into()));
        }
        let (mut body, tag_bytes) = rest.split_at(rest.len() - TAG_LEN);
        let mut blocks = Vec::new();
        while !body.is_empty() {
            if body.len() < 2 {
                return Err(TokenError::Malformed("truncated block length".into()));
            }
            let len = usize::from(u16::from_be_bytes([body[0], body[1]]));
            if len == 0 || len > MAX_BLOCK_BYTES {
                return Err(TokenError::Malformed(format!(
                    "block length {len} out of range"
                )));
            }
            if body.len() < 2 + len {
                return Err(TokenError::Malformed("truncated block".into()));
            }
            blocks.push(body[2..2 + len].to_vec());
            body = &body[2 + len..];
            if blocks.len() > MAX_CHILD_BLOCKS + 1 {
                return Err(TokenError::TooDeep);
            }
        }
        if blocks.is_empty() {
            return Err(TokenError::Malformed("no root block".into()));
        }
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(tag_bytes);
        Ok(RawToken { blocks, tag })
    }

    /// The text form.
    pub fn encode(&self) -> String {
        let mut payload = Vec::with_capacity(
            1 + TAG_LEN + self.blocks.iter().map(|b| b.len() + 2).sum::<usize>(),
        );
        payload.push(FORMAT_VERSION);
        for block in &self.blocks {
            // Lengths were bounded by MAX_BLOCK_BYTES when the block was built or decoded.
            let len = u16::try_from(block.len()).unwrap_or(u16::MAX);
            payload.extend_from_slice(&len.to_be_bytes());
            payload.extend_from_slice(block);
        }
        payload.extend_from_slice(&self.tag);
        let mut text = String::with_capacity(MAX_TOKEN_TEXT.min(payload.len() * 4 / 3 + 8));
        text.push_str(TOKEN_PREFIX);
        URL_SAFE_NO_PAD.encode_string(&payload, &mut text);
        text
    }

    /// Number of attenuation blocks after the root.
    pub fn depth(&self) -> usize {
        self.blocks.len() - 1
    }

    /// Parse the claims without checking the MAC (for offline inspection and attenuation).
    pub fn claims_unverified(&self) -> Result<Claims, TokenError> {
        let root: RootClaims = parse_block(&self.blocks[0])?;
        validate_root(&root)?;
        let mut rights = EffectiveRights::of_root(&root);
        let mut chain = vec![root.jti.clone()];
        let mut children = Vec::with_capacity(self.blocks.len() - 1);
        for block in &self.blocks[1..] {
            let child: ChildClaims = parse_block(block)?;
            validate_child(&child)?;
            if chain.contains(&child.jti) {
                return Err(TokenError::DuplicateJti(child.jti));
            }
            rights = rights.narrow(&child)?;
            chain.push(child.jti.clone());
            children.push(child);
        }
        Ok(Claims {
            root,
            children,
            rights,
        })
    }

    fn chain_tag(&self, key: &TokenKey) -> [u8; TAG_LEN] {
        let mut tag = mac(key.bytes(), &self.blocks[0]);
        for block in &self.blocks[1..] {
            tag = mac(&tag, block);
        }
        tag
    }

    /// Append an attenuation block (offline: needs only the current tag).
    pub fn attenuate(&self, child: &ChildClaims) -> Result<RawToken, TokenError> {
        let claims = self.claims_unverified()?;
        if self.blocks.len() > MAX_CHILD_BLOCKS {
            return Err(TokenError::TooDeep);
        }
        validate_child(child)?;
        if claims.chain().any(|j| j == child.jti) {
            return Err(TokenError::DuplicateJti(child.jti.clone()));
        }
        claims.rights.narrow(child)?;
        let block = encode_block(child)?;
        let mut next = self.clone();
        next.tag = mac(&self.tag, &block);
        next.blocks.push(block);
        if next.encoded_len() > MAX_PAYLOAD_BYTES {
            return Err(TokenError::TooLarge);
        }
        Ok(next)
    }

    fn encoded_len(&self) -> usize {
        1 + TAG_LEN + self.blocks.iter().map(|b| b.len() + 2).sum::<usize>()
    }
}

/// Parsed claims of a whole chain with the folded rights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub root: RootClaims,
    pub children: Vec<ChildClaims>,
    pub rights: EffectiveRights,
}

impl Claims {
    /// Every jti from the root to the leaf.
    pub fn chain(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.root.jti.as_str()).chain(self.children.iter().map(|c| c.jti.as_str()))
    }

    /// The jti of the last block.
    pub fn leaf_jti(&self) -> &str {
        self.children
            .last()
            .map_or(self.root.jti.as_str(), |c| c.jti.as_str())
    }

    /// The most recent delegation label, if any child set one.
    pub fn delegated_subject(&self) -> Option<&str> {
        self.children.iter().rev().find_map(|c| c.sub.as_deref())
    }

    /// The `(jti, max_calls)` of every level that declares a call limit (root always does).
    pub fn call_limits(&self) -> impl Iterator<Item = (&str, u64)> {
        std::iter::once((self.root.jti.as_str(), self.root.max_calls)).chain(
            self.children
                .iter()
                .filter_map(|c| c.max_calls.map(|m| (c.jti.as_str(), m))),
        )
    }

    pub fn depth(&self) -> usize {
        self.children.len()
    }
}

/// Mint a root token. `claims.kid` is set from the key.
pub fn mint(key: &TokenKey, mut claims: RootClaims) -> Result<String, TokenError> {
    claims.kid = key.kid().to_string();
    validate_root(&claims)?;
    let block = encode_block(&claims)?;
    let tag = mac(key.bytes(), &block);
    Ok(RawToken {
        blocks: vec![block],
        tag,
    }
    .encode())
}

/// Seal raw blocks (exact bytes) into a token: for known-answer vectors and other SDKs' tests.
/// Checks limits, not claims.
pub fn seal_blocks(key: &TokenKey, blocks: &[Vec<u8>]) -> Result<String, TokenError> {
    if blocks.is_empty() || blocks.len() > MAX_CHILD_BLOCKS + 1 {
        return Err(TokenError::Malformed("1 to 9 blocks".into()));
    }
    if blocks
        .iter()
        .any(|b| b.is_empty() || b.len() > MAX_BLOCK_BYTES)
    {
        return Err(TokenError::TooLarge);
    }
    let raw = RawToken {
        blocks: blocks.to_vec(),
        tag: [0; TAG_LEN],
    };
    let tag = raw.chain_tag(key);
    let raw = RawToken { tag, ..raw };
    if raw.encoded_len() > MAX_PAYLOAD_BYTES {
        return Err(TokenError::TooLarge);
    }
    Ok(raw.encode())
}

/// The raw block bytes of a decoded token.
impl RawToken {
    pub fn blocks(&self) -> &[Vec<u8>] {
        &self.blocks
    }
}

/// Verify format, key, MAC and the attenuation chain. Expiry is checked separately
/// ([`Claims::check_expiry`]) so that an expired but authentic token can be attributed to its
/// tenant.
pub fn verify_signature(ring: &KeyRing, text: &str) -> Result<Claims, TokenError> {
    let raw = RawToken::decode(text)?;
    let root: RootClaims = parse_block(&raw.blocks[0])?;
    let key = ring
        .find(&root.kid)
        .ok_or_else(|| TokenError::UnknownKid(shown(&root.kid, 16)))?;
    let expected = raw.chain_tag(key);
    if !bool::from(expected.ct_eq(&raw.tag)) {
        return Err(TokenError::BadSignature);
    }
    raw.claims_unverified()
}

/// Verify a token completely at time `now` (unix seconds).
pub fn verify(ring: &KeyRing, text: &str, now: u64) -> Result<Claims, TokenError> {
    let claims = verify_signature(ring, text)?;
    claims.check_expiry(now)?;
    Ok(claims)
}

impl Claims {
    /// Refuse a token whose effective expiry has passed.
    pub fn check_expiry(&self, now: u64) -> Result<(), TokenError> {
        if now >= self.rights.exp {
            return Err(TokenError::Expired);
        }
        Ok(())
    }
}

/// Attenuate a token's text form offline.
pub fn attenuate(text: &str, child: &ChildClaims) -> Result<String, TokenError> {
    Ok(RawToken::decode(text)?.attenuate(child)?.encode())
}

fn mac(key: &[u8], data: &[u8]) -> [u8; TAG_LEN] {
    let mut m = <HmacSha256 as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    m.update(data);
    m.finalize().into_bytes().into()
}

fn parse_block<T: serde::de::DeserializeOwned>(block: &[u8]) -> Result<T, TokenError> {
    let text = std::str::from_utf8(block)
        .map_err(|_| TokenError::Malformed("block is not UTF-8".into()))?;
    if !text.starts_with('{') || !text.ends_with('}') {
        return Err(TokenError::Malformed("block is not a JSON object".into()));
    }
    // serde's message may quote the sender's text (an unknown field's name): bounded and escaped,
    // since it ends up in refusal reasons that operators read.
    serde_json::from_str(text)
        .map_err(|e| TokenError::Malformed(format!("block JSON: {}", shown(&e.to_string(), 200))))
}

fn encode_block<T: Serialize>(claims: &T) -> Result<Vec<u8>, TokenError> {
    let block = serde_json::to_vec(claims)
        .map_err(|e| TokenError::InvalidClaims(format!("cannot encode: {e}")))?;
    if block.len() > MAX_BLOCK_BYTES {
        return Err(TokenError::TooLarge);
    }
    Ok(block)
}

/// At most `n` characters of untrusted text, with control characters made visible.
fn shown(s: &str, n: usize) -> String {
    let head: String = s.chars().take(n).collect();
    crate::text::escape_controls(&head).into_owned()
}

fn validate_name(what: &str, s: &str) -> Result<(), TokenError> {
    if s.is_empty() || s.len() > MAX_NAME_LEN || s.chars().any(char::is_control) {
        return Err(TokenError::InvalidClaims(format!(
            "{what} must be 1..={MAX_NAME_LEN} printable characters"
        )));
    }
    Ok(())
}

fn validate_tools(tools: &[String], all_tools: bool) -> Result<(), TokenError> {
    if tools.len() > MAX_TOOLS {
        return Err(TokenError::InvalidClaims(format!(
            "more than {MAX_TOOLS} tools"
        )));
    }
    let mut seen = BTreeSet::new();
    for tool in tools {
        validate_name("tool", tool)?;
        if !seen.insert(tool.as_str()) {
            return Err(TokenError::InvalidClaims(format!(
                "tool {tool:?} listed twice"
            )));
        }
    }
    if tools.iter().any(|t| t == "*") && (tools.len() != 1 || !all_tools) {
        return Err(TokenError::InvalidClaims(
            "\"*\" is allowed only alone in a root minted with all_tools".into(),
        ));
    }
    Ok(())
}

fn validate_root(root: &RootClaims) -> Result<(), TokenError> {
    if !is_hex_id(&root.jti) {
        return Err(TokenError::InvalidClaims(
            "jti must be 32 lowercase hex".into(),
        ));
    }
    if !valid_tenant(&root.tenant) {
        return Err(TokenError::InvalidClaims("tenant name is invalid".into()));
    }
    validate_name("sub", &root.sub)?;
    validate_tools(&root.tools, root.all_tools)?;
    if root.all_tools && root.tools != ["*"] {
        return Err(TokenError::InvalidClaims(
            "an all_tools root must list exactly [\"*\"]".into(),
        ));
    }
    if root.exp <= root.iat {
        return Err(TokenError::InvalidClaims("exp must be after iat".into()));
    }
    Ok(())
}

fn validate_child(child: &ChildClaims) -> Result<(), TokenError> {
    if !is_hex_id(&child.jti) {
        return Err(TokenError::InvalidClaims(
            "jti must be 32 lowercase hex".into(),
        ));
    }
    if let Some(sub) = &child.sub {
        validate_name("sub", sub)?;
    }
    if let Some(tools) = &child.tools {
        validate_tools(tools, false)?;
    }
    Ok(())
}
