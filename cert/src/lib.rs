//! Certificates for citizens (issue 15): extracts of a birth, marriage or death record, printed
//! at the office as a one-page bilingual A4 PDF with a QR code that anyone can verify offline.
//!
//! - [`claims`]: what a certificate states (CBOR), never a personal number.
//! - [`payload`]: the QR text: COSE_Sign1 (ES256) → zlib → Base45 → `CR1:`; [`payload::verify`].
//! - [`labels`]: the words printed, from the crate's Fluent catalogues (`cert/i18n/*.ftl`).
//! - [`trust`]: the agency's signed trust list (CA, signer certificates, revocations).
//! - [`pdf`]: the document (krilla, DejaVu Sans embedded and subset, the QR drawn as vectors).
//! - [`qr`]: the QR code's modules, and reading one back from an image (rqrr).
//!
//! This is a crate of its own, not a module of `civreg-shared`, because its dependencies (a PDF
//! writer with font shaping, a QR encoder and decoder, a PNG decoder, X.509 parsing) and its
//! 1.4 MB of fonts are needed only by the binaries that issue and verify, not by everything
//! that uses the domain. Like `shared`, it does no I/O of its own except [`qr::from_pdf`], which
//! runs `pdftoppm`.

pub mod claims;
pub mod labels;
pub mod payload;
pub mod pdf;
pub mod qr;
pub mod trust;

pub use claims::{mint_serial, serial_order, Claims, IssueContext, PersonClaim};
pub use payload::{sign, verify, SigningKey, Verified, PREFIX};
pub use trust::{SignerEntry, SignerInput, TrustList};

/// Why a certificate could not be issued, or a trust list not built or opened.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("record {0} is void: a void record gets no certificate")]
    Voided(String),
    #[error("the record can not be read: {0}")]
    Record(String),
    #[error("the signing key is not usable: {0}; install the office's signer again (`civreg-node signer install`)")]
    Key(String),
    #[error("could not encode the certificate: {0}")]
    Encode(String),
    #[error("the certificate's QR text would be {chars} characters, more than {max}: the record's texts (places, names) are too long for one QR code a phone reads from paper")]
    TooLarge { chars: usize, max: usize },
    #[error("trust list refused: {0}")]
    Trust(String),
    #[error("the PDF could not be made: {0}")]
    Pdf(String),
    #[error("{0}")]
    Image(String),
}

/// Why a certificate is not valid. Each says which check failed; none is ever "valid".
///
/// The last four can only be told by the hub, which knows every certificate issued and every
/// record's current version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("NOT VALID: the code can not be read as a civreg certificate: {0}")]
    Undecodable(String),
    #[error("NOT VALID: signed by a key the trust list does not know (key id {kid}); if the certificate is recent, get a fresh trust list and try again")]
    UnknownSigner { kid: String },
    #[error("NOT VALID: the signature does not match the content: the certificate was altered or forged")]
    BadSignature,
    #[error("NOT VALID: signed by {signer} on {issued}, outside its validity ({not_before} to {not_after})")]
    SignerExpired {
        signer: String,
        not_before: String,
        not_after: String,
        issued: String,
    },
    #[error("NOT VALID: the signer {signer} was revoked on {revoked_at}: the agency no longer vouches for anything it signed")]
    SignerRevoked { signer: String, revoked_at: String },
    #[error("NOT VALID: the signature of {signer} is genuine, but the certified office is {office} and the serial {serial} is not one it issues: the certificate was made outside the register")]
    ForeignSerial {
        signer: String,
        office: String,
        serial: String,
    },
    #[error("NOT VALID: serial {0} is not in the agency's register: its office has since reported certificates it issued after this one, and not this one")]
    UnknownSerial(String),
    #[error("NOT VALID: the certificate was cancelled on {at}: {reason}")]
    Cancelled { at: String, reason: String },
    #[error("NOT VALID: record {regno} was voided after this certificate was issued")]
    RecordVoided { regno: String },
    #[error("NOT VALID: record {regno} was amended after this certificate was issued (version {issued} then, {now} now): ask for a new certificate")]
    RecordAmended {
        regno: String,
        issued: u32,
        now: u32,
    },
}

impl Refusal {
    /// A stable code for scripts and pages: `undecodable`, `unknown-signer`, `bad-signature`,
    /// `signer-expired`, `signer-revoked`, `foreign-serial`, `unknown-serial`, `cancelled`, `record-voided`,
    /// `record-amended`.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Undecodable(_) => "undecodable",
            Refusal::UnknownSigner { .. } => "unknown-signer",
            Refusal::BadSignature => "bad-signature",
            Refusal::SignerExpired { .. } => "signer-expired",
            Refusal::SignerRevoked { .. } => "signer-revoked",
            Refusal::ForeignSerial { .. } => "foreign-serial",
            Refusal::UnknownSerial(_) => "unknown-serial",
            Refusal::Cancelled { .. } => "cancelled",
            Refusal::RecordVoided { .. } => "record-voided",
            Refusal::RecordAmended { .. } => "record-amended",
        }
    }
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn format_time(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| format!("{t} (out of range)"))
}
