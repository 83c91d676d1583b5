//! At-rest encryption, the same for the node's database and the hub's: no file I/O here (each
//! side keeps its key file its own way), only the keys and the sealing.
//!
//! One 256-bit master key (a key file of 64 hex digits) gives two subkeys with HKDF-SHA256,
//! salted with the side's name (`civreg-node`, `civreg-hub`): one for ChaCha20-Poly1305 (every
//! sealed value), one for HMAC-SHA256 blind tokens (lookups on values that must not be stored in
//! clear). Each sealed value is `nonce (12 random bytes) || ciphertext || tag`, with the tree
//! name and the key as associated data, so a value moved to another key or tree fails to open.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::hkdf;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

/// A value could not be decrypted: wrong key, or the stored bytes were altered.
#[derive(Debug, thiserror::Error)]
#[error("stored value could not be decrypted (altered on disk, or encrypted with another key)")]
pub struct OpenError;

/// The system random number generator failed.
#[derive(Debug, thiserror::Error)]
#[error("the system random number generator failed")]
pub struct RngError;

/// What sealing adds to a value: the nonce and the tag.
pub const OVERHEAD: usize = NONCE_LEN + 16;

struct Len(usize);
impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// A new random master key.
pub fn new_master() -> Result<[u8; 32], RngError> {
    let mut key = [0u8; 32];
    SystemRandom::new().fill(&mut key).map_err(|_| RngError)?;
    Ok(key)
}

/// The text of a key file holding `master`: 64 hex digits and a newline.
pub fn key_text(master: &[u8; 32]) -> String {
    format!("{}\n", hex::encode(master))
}

/// The master key in the text of a key file, if it holds exactly 64 hex digits (surrounding
/// whitespace aside).
pub fn parse_key_text(text: &str) -> Option<[u8; 32]> {
    hex::decode(text.trim()).ok()?.try_into().ok()
}

/// The keys derived from one master key.
pub struct Sealer {
    aead: LessSafeKey,
    blind: hmac::Key,
    rng: SystemRandom,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    /// The keys of `side` (the HKDF salt: `b"civreg-node"`, `b"civreg-hub"`) from `master`.
    pub fn new(side: &[u8], master: &[u8; 32]) -> Sealer {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, side).extract(master);
        let derive = |info: &[u8]| {
            let mut out = [0u8; 32];
            // expand/fill only fail for output lengths over 255 × 32 bytes; 32 is fine.
            prk.expand(&[info], Len(32))
                .and_then(|okm| okm.fill(&mut out))
                .expect("hkdf of 32 bytes");
            out
        };
        let aead_key = derive(b"aead v1");
        let blind_key = derive(b"blind-index v1");
        Sealer {
            aead: LessSafeKey::new(
                UnboundKey::new(&CHACHA20_POLY1305, &aead_key).expect("32-byte chacha key"),
            ),
            blind: hmac::Key::new(hmac::HMAC_SHA256, &blind_key),
            rng: SystemRandom::new(),
        }
    }

    fn aad(tree: &str, key: &[u8]) -> Vec<u8> {
        let mut a = Vec::with_capacity(tree.len() + 1 + key.len());
        a.extend_from_slice(tree.as_bytes());
        a.push(0);
        a.extend_from_slice(key);
        a
    }

    /// Encrypts `plain` for storage under `tree`/`key`.
    pub fn seal(&self, tree: &str, key: &[u8], plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        // SystemRandom only fails if the OS has no entropy source at all; nothing can be stored
        // safely then, so this is a fatal condition rather than a recoverable error.
        self.rng
            .fill(&mut nonce)
            .expect("system random number generator");
        let mut buf = Vec::with_capacity(OVERHEAD + plain.len());
        buf.extend_from_slice(&nonce);
        buf.extend_from_slice(plain);
        let tag = self
            .aead
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(Self::aad(tree, key)),
                &mut buf[NONCE_LEN..],
            )
            .expect("chacha20-poly1305 seal");
        buf.extend_from_slice(tag.as_ref());
        buf
    }

    /// Decrypts a value sealed with [`Sealer::seal`] under the same tree and key.
    pub fn open(&self, tree: &str, key: &[u8], sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
        if sealed.len() < OVERHEAD {
            return Err(OpenError);
        }
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| OpenError)?;
        let mut body = rest.to_vec();
        let n = self
            .aead
            .open_in_place(nonce, Aad::from(Self::aad(tree, key)), &mut body)
            .map_err(|_| OpenError)?
            .len();
        body.truncate(n);
        Ok(body)
    }

    /// A keyed blind token: equal inputs give equal tokens, and the token reveals nothing
    /// without the key.
    pub fn blind(&self, domain: &str, value: &str) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.blind);
        ctx.update(domain.as_bytes());
        ctx.update(&[0]);
        ctx.update(value.as_bytes());
        let tag = ctx.sign();
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_roundtrip_and_binding() {
        let c = Sealer::new(b"civreg-node", &[7; 32]);
        let s = c.seal("records", b"k1", b"Arben Gashi");
        assert_eq!(s.len(), b"Arben Gashi".len() + OVERHEAD);
        assert_eq!(c.open("records", b"k1", &s).unwrap(), b"Arben Gashi");
        assert!(
            c.open("records", b"k2", &s).is_err(),
            "moved to another key"
        );
        assert!(c.open("ops", b"k1", &s).is_err(), "moved to another tree");
        let other = Sealer::new(b"civreg-node", &[8; 32]);
        assert!(other.open("records", b"k1", &s).is_err(), "wrong key");
        let hub = Sealer::new(b"civreg-hub", &[7; 32]);
        assert!(hub.open("records", b"k1", &s).is_err(), "other side");
        for i in 0..s.len() {
            let mut t = s.clone();
            t[i] ^= 1;
            assert!(c.open("records", b"k1", &t).is_err(), "flipped byte {i}");
        }
        assert!(c.open("records", b"k1", &s[..10]).is_err(), "truncated");
        assert_eq!(c.open("t", b"", &c.seal("t", b"", b"")).unwrap(), b"");
    }

    #[test]
    fn blind_tokens_are_keyed() {
        let a = Sealer::new(b"civreg-node", &[1; 32]);
        let b = Sealer::new(b"civreg-node", &[2; 32]);
        assert_eq!(
            a.blind("jmbg", "0101990910007"),
            a.blind("jmbg", "0101990910007")
        );
        assert_ne!(
            a.blind("jmbg", "0101990910007"),
            b.blind("jmbg", "0101990910007")
        );
        assert_ne!(a.blind("jmbg", "x"), a.blind("kosovo", "x"));
    }

    #[test]
    fn key_text_roundtrips_and_refuses_anything_else() {
        let k = new_master().unwrap();
        assert_eq!(parse_key_text(&key_text(&k)), Some(k));
        assert_eq!(parse_key_text(&format!("  {}  ", hex::encode(k))), Some(k));
        assert_eq!(parse_key_text("nothex"), None);
        assert_eq!(parse_key_text(&hex::encode([1u8; 31])), None);
        assert_eq!(parse_key_text(""), None);
    }
}
