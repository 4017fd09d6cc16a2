//! A throw-away certificate authority for the TLS tests: a real CA certificate and server
//! certificates for 127.0.0.1 signed by it, written as PEM files into a temporary directory.

use std::path::PathBuf;

/// A CA and the directory its files are written to.
pub struct Pki {
    dir: tempfile::TempDir,
    cert: rcgen::Certificate,
    key: rcgen::KeyPair,
}

impl std::fmt::Debug for Pki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pki({})", self.dir.path().display())
    }
}

/// A server certificate and its key, as files.
#[derive(Debug, Clone)]
pub struct Issued {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The certificate's DER, to recognise it in a handshake.
    pub der: Vec<u8>,
}

impl Pki {
    /// A new CA named `name`.
    pub fn new(name: &str) -> Pki {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let key = rcgen::KeyPair::generate().expect("CA key");
        let cert = params.self_signed(&key).expect("self-sign CA");
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("ca.pem"), cert.pem()).expect("write CA");
        Pki { dir, cert, key }
    }

    /// The CA certificate (PEM).
    pub fn ca_pem(&self) -> Vec<u8> {
        self.cert.pem().into_bytes()
    }

    /// The CA certificate's file.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// Where to write other files for the test.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Issue a server certificate for 127.0.0.1 and localhost, written as `<stem>.crt` and
    /// `<stem>.key`.
    pub fn issue(&self, stem: &str) -> Issued {
        self.issue_with(stem, |_| {})
    }

    /// Issue a client certificate (extended key usage clientAuth, no names) with the subject
    /// `dn`, attributes in DER order (so `[(O, "Example"), (CN, "oncall-1")]` reads
    /// `CN=oncall-1,O=Example` in RFC 4514), written as `<stem>.crt` and `<stem>.key`.
    pub fn issue_client(&self, stem: &str, dn: &[(rcgen::DnType, &str)]) -> Issued {
        let mut params =
            rcgen::CertificateParams::new(Vec::<String>::new()).expect("client params");
        params.distinguished_name = rcgen::DistinguishedName::new();
        for (kind, value) in dn {
            params.distinguished_name.push(kind.clone(), *value);
        }
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let key = rcgen::KeyPair::generate().expect("client key");
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .expect("sign client certificate");
        let issued = Issued {
            cert: self.path(&format!("{stem}.crt")),
            key: self.path(&format!("{stem}.key")),
            der: cert.der().to_vec(),
        };
        std::fs::write(&issued.cert, cert.pem()).expect("write certificate");
        std::fs::write(&issued.key, key.serialize_pem()).expect("write key");
        issued
    }

    /// [`Pki::issue`] with the parameters adjusted first (validity, …).
    pub fn issue_with(
        &self,
        stem: &str,
        adjust: impl FnOnce(&mut rcgen::CertificateParams),
    ) -> Issued {
        let mut params =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
                .expect("server params");
        adjust(&mut params);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, stem);
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let key = rcgen::KeyPair::generate().expect("server key");
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .expect("sign server certificate");
        let issued = Issued {
            cert: self.path(&format!("{stem}.crt")),
            key: self.path(&format!("{stem}.key")),
            der: cert.der().to_vec(),
        };
        std::fs::write(&issued.cert, cert.pem()).expect("write certificate");
        std::fs::write(&issued.key, key.serialize_pem()).expect("write key");
        issued
    }
}
