//! The QR payload: claims (CBOR) signed as COSE_Sign1 (ES256), compressed with zlib, Base45,
//! behind the prefix `CR1:`, as the EU Digital COVID Certificate does it (`HC1:`).
//!
//! Verification refuses, each with its own [`Refusal`]: text that does not decode (truncated,
//! altered outside the signature, not a certificate), a signer the trust list does not know, a
//! bad signature (anything signed was altered), a signer that had expired when it signed, and a
//! revoked signer. Nothing that fails a check is ever returned as verified.

use std::io::Read;

use coset::{
    iana, CborSerializable, CoseSign1, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable,
};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};

use crate::claims::{hex_lower, Claims};
use crate::trust::{SignerEntry, TrustList};
use crate::{CertError, Refusal};

/// The prefix of every certificate's QR text (format 1).
pub const PREFIX: &str = "CR1:";

/// Longest QR text accepted for verification. A version-40 QR code holds 4,296 alphanumeric
/// characters; anything longer is not one of ours.
pub const MAX_TEXT_CHARS: usize = 4_296;

/// Longest QR text issued: about version 25 at error correction M. The longest realistic
/// record needs 748 characters, version 18 (BENCHMARKS.md); whether phones read version 25
/// from the printed 56 mm square has not been tried.
pub const MAX_ISSUED_TEXT_CHARS: usize = 1_800;

/// Largest decompressed COSE message accepted (a zip bomb stops here).
pub const MAX_COSE_BYTES: usize = 16 * 1024;

/// A document-signing key with the certificate that names it.
pub struct SigningKey {
    key: EcdsaKeyPair,
    kid: [u8; 8],
    cert_der: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &hex_lower(&self.kid))
            .finish_non_exhaustive()
    }
}

/// The key id of a signer certificate: the first 8 bytes of the SHA-256 of its DER (as the EU
/// DCC does it).
pub fn kid_of(cert_der: &[u8]) -> [u8; 8] {
    let d = ring::digest::digest(&ring::digest::SHA256, cert_der);
    let mut kid = [0u8; 8];
    kid.copy_from_slice(&d.as_ref()[..8]);
    kid
}

impl SigningKey {
    /// A P-256 key (PKCS#8 DER) and its certificate (DER). Refuses a key that does not belong
    /// to the certificate.
    pub fn new(key_pkcs8: &[u8], cert_der: &[u8]) -> Result<SigningKey, CertError> {
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, key_pkcs8, &rng)
            .map_err(|e| CertError::Key(format!("not a P-256 PKCS#8 key ({e})")))?;
        let (_, cert) = x509_parser::parse_x509_certificate(cert_der)
            .map_err(|e| CertError::Key(format!("the signer certificate is unreadable ({e})")))?;
        use ring::signature::KeyPair;
        if cert.public_key().subject_public_key.data.as_ref() != key.public_key().as_ref() {
            return Err(CertError::Key(
                "the signing key does not belong to the signer certificate".into(),
            ));
        }
        Ok(SigningKey {
            key,
            kid: kid_of(cert_der),
            cert_der: cert_der.to_vec(),
        })
    }

    pub fn kid(&self) -> [u8; 8] {
        self.kid
    }

    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// An ES256 signature (r || s, 64 bytes) of `msg`.
    pub(crate) fn sign_raw(&self, msg: &[u8]) -> Result<Vec<u8>, CertError> {
        self.key
            .sign(&SystemRandom::new(), msg)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| CertError::Key("signing failed".into()))
    }
}

/// Signs `claims` and returns the QR text (`CR1:…`).
pub fn sign(claims: &Claims, key: &SigningKey) -> Result<String, CertError> {
    let mut payload = Vec::new();
    ciborium::into_writer(claims, &mut payload)
        .map_err(|e| CertError::Encode(format!("claims: {e}")))?;
    let cose = sign_cose(&payload, key)?;
    let text = encode_text(&cose)?;
    if text.len() > MAX_ISSUED_TEXT_CHARS {
        return Err(CertError::TooLarge {
            chars: text.len(),
            max: MAX_ISSUED_TEXT_CHARS,
        });
    }
    Ok(text)
}

/// A tagged COSE_Sign1 of `payload`, ES256, the key id in the protected header.
pub(crate) fn sign_cose(payload: &[u8], key: &SigningKey) -> Result<Vec<u8>, CertError> {
    let protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::ES256)
        .key_id(key.kid.to_vec())
        .build();
    let sign1 = CoseSign1Builder::new()
        .protected(protected)
        .payload(payload.to_vec())
        .try_create_signature(b"", |tbs| key.sign_raw(tbs))?
        .build();
    sign1
        .to_tagged_vec()
        .map_err(|e| CertError::Encode(format!("COSE: {e}")))
}

/// zlib (best compression), Base45, prefix.
fn encode_text(cose: &[u8]) -> Result<String, CertError> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut z, cose).map_err(|e| CertError::Encode(e.to_string()))?;
    let compressed = z.finish().map_err(|e| CertError::Encode(e.to_string()))?;
    Ok(format!("{PREFIX}{}", base45::encode(compressed)))
}

/// A certificate whose signature and signer were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub claims: Claims,
    pub signer: SignerEntry,
}

/// The COSE message inside a QR text, undecoded claims and all.
pub(crate) struct Parsed {
    pub sign1: CoseSign1,
    pub kid: Vec<u8>,
}

/// Decodes a QR text down to its COSE_Sign1, checking nothing signed yet.
pub(crate) fn parse(text: &str) -> Result<Parsed, Refusal> {
    let undecodable = |why: String| Refusal::Undecodable(why);
    let text = text.trim();
    if text.len() > MAX_TEXT_CHARS {
        return Err(undecodable(format!(
            "the text is {} characters long, more than a QR code holds",
            text.len()
        )));
    }
    let body = text.strip_prefix(PREFIX).ok_or_else(|| {
        undecodable(format!(
            "it does not start with {PREFIX}: it is not a civreg certificate"
        ))
    })?;
    let compressed = base45::decode(body)
        .map_err(|e| undecodable(format!("not valid Base45 ({e:?}): truncated or mistyped")))?;
    let mut cose = Vec::new();
    flate2::read::ZlibDecoder::new(compressed.as_slice())
        .take(MAX_COSE_BYTES as u64 + 1)
        .read_to_end(&mut cose)
        .map_err(|e| {
            undecodable(format!(
                "the compressed data is damaged ({e}): truncated or altered"
            ))
        })?;
    if cose.len() > MAX_COSE_BYTES {
        return Err(undecodable(format!(
            "it unpacks to more than {MAX_COSE_BYTES} bytes"
        )));
    }
    let sign1 = CoseSign1::from_tagged_slice(&cose)
        .or_else(|_| CoseSign1::from_slice(&cose))
        .map_err(|e| undecodable(format!("not a COSE_Sign1 message ({e})")))?;
    if !sign1.unprotected.is_empty() {
        return Err(undecodable(
            "it has unprotected headers, which civreg never writes".into(),
        ));
    }
    if sign1.protected.header.alg
        != Some(coset::RegisteredLabelWithPrivate::Assigned(
            iana::Algorithm::ES256,
        ))
    {
        return Err(undecodable("it is not signed with ES256".into()));
    }
    let kid = sign1.protected.header.key_id.clone();
    if kid.len() != 8 {
        return Err(undecodable(format!(
            "its key id has {} bytes, not 8",
            kid.len()
        )));
    }
    Ok(Parsed { sign1, kid })
}

/// Verifies a QR text against `trust`: decodes it, finds the signer, checks the signature, the
/// signer's validity at the time of issue and its revocation, and the claims.
pub fn verify(text: &str, trust: &TrustList) -> Result<Verified, Refusal> {
    let parsed = parse(text)?;
    let kid: [u8; 8] = parsed
        .kid
        .as_slice()
        .try_into()
        .expect("checked to be 8 bytes");
    let signer = trust.signer(&kid).ok_or_else(|| Refusal::UnknownSigner {
        kid: hex_lower(&kid),
    })?;
    parsed
        .sign1
        .verify_signature(b"", |sig, tbs| signer.verify_raw(tbs, sig))
        .map_err(|_| Refusal::BadSignature)?;
    // Only now is the payload known to come from the signer.
    let payload = parsed
        .sign1
        .payload
        .as_deref()
        .ok_or_else(|| Refusal::Undecodable("the signed message has no payload".into()))?;
    let claims: Claims = ciborium::from_reader(payload)
        .map_err(|e| Refusal::Undecodable(format!("the signed claims do not decode ({e})")))?;
    claims.check().map_err(Refusal::Undecodable)?;
    if let Some(at) = signer.revoked_at {
        return Err(Refusal::SignerRevoked {
            signer: signer.identity.clone(),
            revoked_at: crate::format_time(at),
        });
    }
    if claims.issued_at < signer.not_before || claims.issued_at > signer.not_after {
        return Err(Refusal::SignerExpired {
            signer: signer.identity.clone(),
            not_before: crate::format_time(signer.not_before),
            not_after: crate::format_time(signer.not_after),
            issued: crate::format_time(claims.issued_at),
        });
    }
    // A signer vouches for its own office's certificates only: the office certified and the
    // serial must be its own, or a signer could pass its certificates off as another office's.
    if claims.office != signer.office()
        || crate::claims::serial_order(&claims.serial, signer.office()).is_none()
    {
        return Err(Refusal::ForeignSerial {
            signer: signer.identity.clone(),
            office: claims.office.clone(),
            serial: claims.serial.clone(),
        });
    }
    Ok(Verified {
        claims,
        signer: signer.clone(),
    })
}
