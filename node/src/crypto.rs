//! At-rest encryption for the node's database.
//!
//! One 256-bit master key lives in a key file (hex, mode 0600) created by `init`. Two subkeys are
//! derived from it with HKDF-SHA256: one for ChaCha20-Poly1305 (every stored record and op), one
//! for HMAC-SHA256 blind-index tokens (lookups on values that must not be stored in clear).
//! Each sealed value is `nonce (12 random bytes) || ciphertext || tag`, with the tree name and key
//! as associated data, so a value moved to another key or tree fails to open.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::hkdf;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key file {0} not found: this node's data can not be read without it; restore it from the backup made at init, or pass --key-file")]
    Missing(PathBuf),
    #[error("key file {path} could not be read")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("key file {0} is damaged: it must hold exactly 64 hex digits")]
    Malformed(PathBuf),
    #[error("key file {0} already exists: refusing to overwrite a key (that would make its data unreadable)")]
    Exists(PathBuf),
    #[error("the system random number generator failed")]
    Rng,
}

/// A value could not be decrypted: wrong key, or the stored bytes were altered.
#[derive(Debug, thiserror::Error)]
#[error("stored value could not be decrypted (altered on disk, or encrypted with another key)")]
pub struct OpenError;

struct Len(usize);
impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// The node's keys, derived from the key file.
pub struct Crypto {
    aead: LessSafeKey,
    blind: hmac::Key,
    rng: SystemRandom,
}

impl std::fmt::Debug for Crypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Crypto(..)")
    }
}

/// Creates a new key file with mode 0600. Fails if one already exists.
pub fn create_key_file(path: &Path) -> Result<(), KeyError> {
    let rng = SystemRandom::new();
    let mut key = [0u8; 32];
    rng.fill(&mut key).map_err(|_| KeyError::Rng)?;
    let io = |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            KeyError::Exists(path.to_path_buf())
        } else {
            io(e)
        }
    })?;
    f.write_all(format!("{}\n", hex::encode(key)).as_bytes())
        .map_err(io)?;
    f.sync_all().map_err(io)?;
    Ok(())
}

impl Crypto {
    /// Loads the key file.
    pub fn load(path: &Path) -> Result<Crypto, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                KeyError::Missing(path.to_path_buf())
            } else {
                KeyError::Io {
                    path: path.to_path_buf(),
                    source: e,
                }
            }
        })?;
        let bytes =
            hex::decode(text.trim()).map_err(|_| KeyError::Malformed(path.to_path_buf()))?;
        let master: [u8; 32] = bytes
            .try_into()
            .map_err(|_| KeyError::Malformed(path.to_path_buf()))?;
        Ok(Crypto::from_master(&master))
    }

    pub fn from_master(master: &[u8; 32]) -> Crypto {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"civreg-node").extract(master);
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
        Crypto {
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
        let mut buf = Vec::with_capacity(NONCE_LEN + plain.len() + CHACHA20_POLY1305.tag_len());
        buf.extend_from_slice(&nonce);
        buf.extend_from_slice(plain);
        let (head, body) = buf.split_at_mut(NONCE_LEN);
        let tag = self
            .aead
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(Self::aad(tree, key)),
                body,
            )
            .expect("chacha20-poly1305 seal");
        let _ = head;
        buf.extend_from_slice(tag.as_ref());
        buf
    }

    /// Decrypts a value sealed with [`Crypto::seal`] under the same tree and key.
    pub fn open(&self, tree: &str, key: &[u8], sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
        if sealed.len() < NONCE_LEN + CHACHA20_POLY1305.tag_len() {
            return Err(OpenError);
        }
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| OpenError)?;
        let mut body = rest.to_vec();
        let plain = self
            .aead
            .open_in_place(nonce, Aad::from(Self::aad(tree, key)), &mut body)
            .map_err(|_| OpenError)?;
        let n = plain.len();
        body.truncate(n);
        Ok(body)
    }

    /// A keyed blind-index token: equal inputs give equal tokens, and the token reveals nothing
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

/// The default key file location for a data dir.
pub fn default_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("node.key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_roundtrip_and_binding() {
        let c = Crypto::from_master(&[7; 32]);
        let s = c.seal("records", b"k1", b"Arben Gashi");
        assert_eq!(c.open("records", b"k1", &s).unwrap(), b"Arben Gashi");
        assert!(
            c.open("records", b"k2", &s).is_err(),
            "moved to another key"
        );
        assert!(c.open("ops", b"k1", &s).is_err(), "moved to another tree");
        let other = Crypto::from_master(&[8; 32]);
        assert!(other.open("records", b"k1", &s).is_err(), "wrong key");
        for i in 0..s.len() {
            let mut t = s.clone();
            t[i] ^= 1;
            assert!(c.open("records", b"k1", &t).is_err(), "flipped byte {i}");
        }
        assert!(c.open("records", b"k1", &s[..10]).is_err(), "truncated");
    }

    #[test]
    fn blind_tokens_are_keyed() {
        let a = Crypto::from_master(&[1; 32]);
        let b = Crypto::from_master(&[2; 32]);
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
    fn key_file_is_private_and_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("node.key");
        create_key_file(&p).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert!(matches!(create_key_file(&p), Err(KeyError::Exists(_))));
        assert!(Crypto::load(&p).is_ok());
        std::fs::write(&p, "nothex").unwrap();
        assert!(matches!(Crypto::load(&p), Err(KeyError::Malformed(_))));
        assert!(matches!(
            Crypto::load(&dir.path().join("nope")),
            Err(KeyError::Missing(_))
        ));
    }
}
