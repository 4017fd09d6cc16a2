//! TLS on the agent listener (`INTENTGATE_TLS_CERT` / `INTENTGATE_TLS_KEY`): the certificate
//! chain and key are loaded and matched at start and by `igd check-config`, and reloaded on
//! SIGHUP. A reload swaps the server configuration for new handshakes only; connections already
//! established keep the configuration they were accepted with.

use crate::config::{ConfigError, Settings};
use arc_swap::ArcSwap;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::ParsedCertificate;
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use std::path::Path;
use std::sync::Arc;

/// The crypto provider igd uses (ring), explicitly, so no process-wide default is needed.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Read and check a PEM certificate chain (leaf first) and its private key.
pub fn load_certified_key(cert_path: &Path, key_path: &Path) -> Result<CertifiedKey, ConfigError> {
    load_pair(cert_path, key_path, ("tls_cert", "tls_key"))
}

/// [`load_certified_key`], errors naming the settings `vars` (certificate, key).
fn load_pair(
    cert_path: &Path,
    key_path: &Path,
    vars: (&str, &str),
) -> Result<CertifiedKey, ConfigError> {
    let cert_pem = std::fs::read(cert_path).map_err(|e| {
        ConfigError::new(vars.0, format!("cannot read {}: {e}", cert_path.display()))
    })?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            ConfigError::new(
                vars.0,
                format!(
                    "{} is not a PEM certificate chain: {e}",
                    cert_path.display()
                ),
            )
        })?;
    if chain.is_empty() {
        return Err(ConfigError::new(
            vars.0,
            format!("{} holds no PEM certificate", cert_path.display()),
        ));
    }
    for cert in &chain {
        ParsedCertificate::try_from(cert).map_err(|e| {
            ConfigError::new(
                vars.0,
                format!(
                    "{} holds a certificate that does not parse: {e}",
                    cert_path.display()
                ),
            )
        })?;
    }
    // A leaf outside its validity period would be served and refused by every client.
    let (not_before, not_after) = validity(&chain[0]).ok_or_else(|| {
        ConfigError::new(
            vars.0,
            format!(
                "{}: cannot read the certificate's validity",
                cert_path.display()
            ),
        )
    })?;
    if is_ca(&chain[0]) {
        return Err(ConfigError::new(
            vars.0,
            format!(
                "{}: the first certificate is a CA certificate (basicConstraints CA:TRUE; clients refuse it as a server certificate): put the server's own certificate first, or for a self-signed one make it with `openssl req -x509 … -addext basicConstraints=critical,CA:FALSE`",
                cert_path.display()
            ),
        ));
    }
    let now = crate::clock::now_secs();
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    if now > not_after || now < not_before {
        let when = |t: i64| crate::clock::rfc3339(t.saturating_mul(1_000_000));
        return Err(ConfigError::new(
            vars.0,
            format!(
                "{}: the certificate is valid from {} to {}, not now",
                cert_path.display(),
                when(not_before),
                when(not_after)
            ),
        ));
    }
    let key_pem = zeroize::Zeroizing::new(std::fs::read(key_path).map_err(|e| {
        ConfigError::new(vars.1, format!("cannot read {}: {e}", key_path.display()))
    })?);
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        ConfigError::new(
            vars.1,
            format!(
                "{} is not a PEM private key (PKCS#8, PKCS#1 or SEC1): {e}",
                key_path.display()
            ),
        )
    })?;
    let signing_key = provider().key_provider.load_private_key(key).map_err(|e| {
        ConfigError::new(
            vars.1,
            format!("{}: unsupported private key: {e}", key_path.display()),
        )
    })?;
    let certified = CertifiedKey::new(chain, signing_key);
    // Fail closed: a key whose public half cannot be derived is not accepted either.
    certified.keys_match().map_err(|e| {
        ConfigError::new(
            vars.1,
            format!(
                "{} does not match the certificate in {} ({e})",
                key_path.display(),
                cert_path.display()
            ),
        )
    })?;
    Ok(certified)
}

/// One DER element: (tag, contents, rest).
fn der_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// A certificate's validity period as Unix seconds (notBefore, notAfter), read from its DER
/// (RFC 5280 §4.1: the fifth field of tbsCertificate, after an optional [0] version).
fn validity(cert: &[u8]) -> Option<(i64, i64)> {
    let (_, certificate, _) = der_element(cert)?;
    let (_, tbs, _) = der_element(certificate)?;
    let (tag, _, mut rest) = der_element(tbs)?;
    if tag != 0xa0 {
        rest = tbs; // no version field
    }
    for _ in 0..3 {
        // serialNumber, signature, issuer
        rest = der_element(rest)?.2;
    }
    let (_, validity, _) = der_element(rest)?;
    let (t1, before, rest) = der_element(validity)?;
    let (t2, after, _) = der_element(rest)?;
    Some((der_time(t1, before)?, der_time(t2, after)?))
}

/// Whether a certificate's basic constraints say `cA: TRUE` (RFC 5280 §4.2.1.9).
fn is_ca(cert: &[u8]) -> bool {
    const BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13]; // 2.5.29.19
    let extensions = || -> Option<&[u8]> {
        let (_, certificate, _) = der_element(cert)?;
        let (_, mut tbs, _) = der_element(certificate)?;
        // After the subject public key info come the optional [1], [2] and [3] fields.
        while let Some((tag, contents, rest)) = der_element(tbs) {
            if tag == 0xa3 {
                return Some(der_element(contents)?.1);
            }
            tbs = rest;
        }
        None
    };
    let Some(mut list) = extensions() else {
        return false;
    };
    while let Some((_, extension, rest)) = der_element(list) {
        list = rest;
        let Some((0x06, oid, mut fields)) = der_element(extension) else {
            continue;
        };
        if oid != BASIC_CONSTRAINTS {
            continue;
        }
        // critical BOOLEAN (optional), then the OCTET STRING holding the constraints.
        while let Some((tag, contents, rest)) = der_element(fields) {
            fields = rest;
            if tag == 0x04 {
                return der_element(contents)
                    .and_then(|(_, seq, _)| der_element(seq))
                    .is_some_and(|(tag, value, _)| {
                        tag == 0x01 && value.first().is_some_and(|b| *b != 0)
                    });
            }
        }
    }
    false
}

/// UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ) as Unix seconds.
fn der_time(tag: u8, text: &[u8]) -> Option<i64> {
    // Digits only (then byte slicing is safe, and no sign slips through a number parse).
    let text = text.strip_suffix(b"Z")?;
    if !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let text = std::str::from_utf8(text).ok()?;
    let (year, rest) = match (tag, text.len()) {
        (0x17, 12) => {
            let yy: i32 = text[..2].parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &text[2..])
        }
        (0x18, 14) => (text[..4].parse().ok()?, &text[4..]),
        _ => return None,
    };
    let n = |r: std::ops::Range<usize>| rest.get(r)?.parse::<u8>().ok();
    let date =
        time::Date::from_calendar_date(year, time::Month::try_from(n(0..2)?).ok()?, n(2..4)?)
            .ok()?;
    let at = date.with_hms(n(4..6)?, n(6..8)?, n(8..10)?).ok()?;
    Some(at.assume_utc().unix_timestamp())
}

/// A rustls server configuration (TLS 1.2 and 1.3, HTTP/1.1) for this certificate and key.
pub fn server_config(cert_path: &Path, key_path: &Path) -> Result<ServerConfig, ConfigError> {
    let certified = load_certified_key(cert_path, key_path)?;
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| ConfigError::new("tls_cert", format!("TLS set-up failed: {e}")))?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(FixedCert(Arc::new(certified))));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Always the one certificate loaded last.
#[derive(Debug)]
struct FixedCert(Arc<CertifiedKey>);

impl rustls::server::ResolvesServerCert for FixedCert {
    fn resolve(&self, _hello: rustls::server::ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// The agent listener's TLS state: the configuration new handshakes use, swapped on reload.
#[derive(Debug)]
pub struct AgentTls {
    cert_path: std::path::PathBuf,
    key_path: std::path::PathBuf,
    config: ArcSwap<ServerConfig>,
}

impl AgentTls {
    /// Load TLS from the settings: `None` when `INTENTGATE_TLS_CERT`/`_KEY` are unset.
    pub fn from_settings(settings: &Settings) -> Result<Option<AgentTls>, ConfigError> {
        let (Some(cert), Some(key)) = (&settings.tls_cert, &settings.tls_key) else {
            return Ok(None);
        };
        let config = server_config(cert, key)?;
        Ok(Some(AgentTls {
            cert_path: cert.clone(),
            key_path: key.clone(),
            config: ArcSwap::from_pointee(config),
        }))
    }

    /// The configuration for the next handshake.
    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(self.config.load_full())
    }

    /// Re-read the certificate and key (SIGHUP). On any problem the current pair stays in force.
    pub fn reload(&self) {
        match server_config(&self.cert_path, &self.key_path) {
            Ok(config) => {
                self.config.store(Arc::new(config));
                tracing::info!(cert = %self.cert_path.display(), "TLS certificate reloaded");
            }
            Err(e) => tracing::error!(
                error = %e,
                "TLS certificate reload failed; keeping the current certificate"
            ),
        }
    }
}

/// The client CAs of the mTLS admin listener (`INTENTGATE_ADMIN_CLIENT_CA`): every PEM
/// certificate in the file is a trust anchor.
fn client_roots(ca_path: &Path) -> Result<rustls::RootCertStore, ConfigError> {
    let var = "admin_client_ca";
    let pem = std::fs::read(ca_path)
        .map_err(|e| ConfigError::new(var, format!("cannot read {}: {e}", ca_path.display())))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            ConfigError::new(
                var,
                format!("{} is not a PEM certificate file: {e}", ca_path.display()),
            )
        })?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in certs {
        roots.add(cert).map_err(|e| {
            ConfigError::new(
                var,
                format!(
                    "{} holds a certificate that is not usable as a CA: {e}",
                    ca_path.display()
                ),
            )
        })?;
    }
    if roots.is_empty() {
        return Err(ConfigError::new(
            var,
            format!("{} holds no PEM certificate", ca_path.display()),
        ));
    }
    Ok(roots)
}

/// The mTLS admin listener's rustls configuration: TLS 1.2 and 1.3, HTTP/1.1, igd's admin
/// certificate, and a client certificate chaining to `ca_path` REQUIRED (a handshake without
/// one, or with one from another CA, fails).
pub fn admin_server_config(
    cert_path: &Path,
    key_path: &Path,
    ca_path: &Path,
) -> Result<ServerConfig, ConfigError> {
    let certified = load_pair(cert_path, key_path, ("admin_tls_cert", "admin_tls_key"))?;
    let roots = client_roots(ca_path)?;
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(|e| {
                ConfigError::new(
                    "admin_client_ca",
                    format!("{}: cannot verify clients with it: {e}", ca_path.display()),
                )
            })?;
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| ConfigError::new("admin_tls_cert", format!("TLS set-up failed: {e}")))?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(Arc::new(FixedCert(Arc::new(certified))));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The mTLS admin listener's TLS state (`INTENTGATE_ADMIN_LISTEN`): certificate, key and client
/// CA, swapped together on reload (SIGHUP) for new handshakes only.
#[derive(Debug)]
pub struct AdminTls {
    cert_path: std::path::PathBuf,
    key_path: std::path::PathBuf,
    ca_path: std::path::PathBuf,
    config: ArcSwap<ServerConfig>,
}

impl AdminTls {
    /// Load the admin listener's TLS: `None` when `INTENTGATE_ADMIN_LISTEN` is unset.
    pub fn from_settings(settings: &Settings) -> Result<Option<AdminTls>, ConfigError> {
        if settings.admin_listen.is_none() {
            return Ok(None);
        }
        let missing =
            |var: &str| ConfigError::new(var, "required when INTENTGATE_ADMIN_LISTEN is set");
        let cert = settings
            .admin_tls_cert
            .clone()
            .ok_or_else(|| missing("admin_tls_cert"))?;
        let key = settings
            .admin_tls_key
            .clone()
            .ok_or_else(|| missing("admin_tls_key"))?;
        let ca = settings
            .admin_client_ca
            .clone()
            .ok_or_else(|| missing("admin_client_ca"))?;
        let config = admin_server_config(&cert, &key, &ca)?;
        Ok(Some(AdminTls {
            cert_path: cert,
            key_path: key,
            ca_path: ca,
            config: ArcSwap::from_pointee(config),
        }))
    }

    /// The configuration for the next handshake.
    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(self.config.load_full())
    }

    /// Re-read the certificate, key and client CA (SIGHUP). On any problem the current ones
    /// stay in force.
    pub fn reload(&self) {
        match admin_server_config(&self.cert_path, &self.key_path, &self.ca_path) {
            Ok(config) => {
                self.config.store(Arc::new(config));
                tracing::info!(
                    cert = %self.cert_path.display(),
                    client_ca = %self.ca_path.display(),
                    "admin TLS certificate and client CA reloaded"
                );
            }
            Err(e) => tracing::error!(
                error = %e,
                "admin TLS reload failed; keeping the current certificate and client CA"
            ),
        }
    }
}

/// The subject of a (verified) client certificate as RFC 4514 text, the form operator accounts
/// name in `cert_subject`: RDNs from the last to the first (so `CN=oncall-1,O=Example` for a
/// certificate whose subject is O=Example, CN=oncall-1 in DER order), `,` between RDNs and `+`
/// between the attributes of a multi-valued one, no spaces; attribute types CN, L, ST, O, OU,
/// C, STREET, DC, UID (RFC 4514 §3) plus emailAddress and serialNumber by name, any other by
/// dotted OID; string values as UTF-8 with `"+,;<>\` escaped by a backslash, a leading `#` or
/// space and a trailing space escaped too, control characters as `\XX`; a value that is not a
/// string (or of an unnamed type) as `#` and the hex of its DER. For ASCII subjects this is
/// what `openssl x509 -noout -subject -nameopt RFC2253` prints. `None` when the certificate
/// does not parse.
pub fn certificate_subject(der: &[u8]) -> Option<String> {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let mut rdns = Vec::new();
    for rdn in cert.subject().iter() {
        let mut attrs = Vec::new();
        for attr in rdn.iter() {
            let oid = attr.attr_type().to_id_string();
            let name = match oid.as_str() {
                "2.5.4.3" => Some("CN"),
                "2.5.4.7" => Some("L"),
                "2.5.4.8" => Some("ST"),
                "2.5.4.10" => Some("O"),
                "2.5.4.11" => Some("OU"),
                "2.5.4.6" => Some("C"),
                "2.5.4.9" => Some("STREET"),
                "0.9.2342.19200300.100.1.25" => Some("DC"),
                "0.9.2342.19200300.100.1.1" => Some("UID"),
                "1.2.840.113549.1.9.1" => Some("emailAddress"),
                "2.5.4.5" => Some("serialNumber"),
                _ => None,
            };
            let text = match (name, attr.as_str()) {
                (Some(name), Ok(value)) => format!("{name}={}", escape_rfc4514(value)),
                (name, _) => {
                    let value = attr.attr_value();
                    let der = x509_parser::der_parser::asn1_rs::ToDer::to_der_vec(value).ok()?;
                    format!(
                        "{}=#{}",
                        name.map_or(oid.clone(), String::from),
                        hex::encode(der)
                    )
                }
            };
            attrs.push(text);
        }
        rdns.push(attrs.join("+"));
    }
    rdns.reverse();
    Some(rdns.join(","))
}

/// An attribute value escaped as RFC 4514 §2.4 asks (and control characters as `\XX`).
fn escape_rfc4514(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '#' | ' ' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            ' ' if i == last => out.push_str("\\ "),
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\{b:02X}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod subject_tests {
    use super::escape_rfc4514;

    #[test]
    fn values_are_escaped_as_rfc_4514_asks() {
        assert_eq!(escape_rfc4514("oncall-1"), "oncall-1");
        assert_eq!(escape_rfc4514("a,b+c"), "a\\,b\\+c");
        assert_eq!(escape_rfc4514("#x"), "\\#x");
        assert_eq!(escape_rfc4514(" x "), "\\ x\\ ");
        assert_eq!(escape_rfc4514("a\"b\\c<d>e;f"), "a\\\"b\\\\c\\<d\\>e\\;f");
        assert_eq!(escape_rfc4514("a\nb"), "a\\0Ab");
        assert_eq!(escape_rfc4514("Zürich"), "Zürich");
        assert_eq!(escape_rfc4514(""), "");
    }
}

#[cfg(test)]
mod validity_tests {
    use super::der_time;

    #[test]
    fn der_times_read_both_forms() {
        // RFC 5280: UTCTime years 50–99 are 19xx, 00–49 are 20xx.
        assert_eq!(der_time(0x17, b"700101000000Z"), Some(0));
        assert_eq!(der_time(0x17, b"491231235959Z"), Some(2_524_607_999));
        assert_eq!(der_time(0x18, b"20380119031408Z"), Some(2_147_483_648));
        assert_eq!(der_time(0x17, b"700101000000"), None);
        assert_eq!(der_time(0x18, b"2038011903140Z"), None);
        assert_eq!(der_time(0x17, b"701301000000Z"), None);
        // Not digits: multi-byte characters (no slicing panic) and signs.
        assert_eq!(der_time(0x17, "€010100000Z".as_bytes()), None);
        assert_eq!(der_time(0x18, "20€0101000000Z".as_bytes()), None);
        assert_eq!(der_time(0x17, b"-10101000000Z"), None);
        assert_eq!(der_time(0x18, b"+0010101000000Z"), None);
    }
}
