//! The body of a backup, the same for the node and the hub (issue 17): entries `(space, key,
//! value)` in frames of up to 1 MiB, each frame sealed with the side's [`Sealer`] with the
//! backup's id and the frame's number as associated data, so a frame can be neither read,
//! altered, moved, repeated nor dropped unnoticed; the SHA-256 of the whole body is computed as
//! it is written. The manifest (what each side says of its backup, in clear, with a MAC) is each
//! side's own, checked by [`check_manifest`]. No file I/O: any `Write` and `Read`.
//!
//! Body: `MAGIC`, then per frame a big-endian u32 length and the sealed frame. A frame's plain
//! bytes are entries: u8 length + space name, u32 length + key, u32 length + value.

use crate::seal::Sealer;
use std::io::{Read, Write};

pub const MAGIC: &[u8] = b"CIVREG-SNAPSHOT 1\n";
/// Plain bytes per frame before it is sealed (an entry larger than that makes a larger frame).
const FRAME_BYTES: usize = 1 << 20;
/// The largest frame a reader accepts.
pub const MAX_FRAME: usize = 64 << 20;
const SEAL_TREE: &str = "snapshot";

/// One entry: its space (a tree name, `store`, `file`), key and value.
pub type Entry = (String, Vec<u8>, Vec<u8>);

/// A backup's manifest: what each side says of its backup, in clear, authenticated by an
/// HMAC (its `mac`, hex) of its JSON with `mac` empty, under a key derived from the side's key.
pub trait Manifest: serde::Serialize + Clone {
    /// The HMAC's domain, naming the side: `civreg-hub backup manifest v1`.
    const MAC_DOMAIN: &'static str;
    /// The backup format the manifest says it is of.
    fn format(&self) -> u32;
    /// The manifest's MAC field.
    fn mac_mut(&mut self) -> &mut String;

    /// The MAC of this manifest (its `mac` left out) under `sealer`, hex.
    fn mac_with(&self, sealer: &Sealer) -> String {
        let mut bare = self.clone();
        bare.mac_mut().clear();
        let text = serde_json::to_string(&bare).expect("a manifest serialises");
        hex::encode(sealer.blind(Self::MAC_DOMAIN, &text))
    }
}

/// Why a manifest read from a backup is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("manifest.json is not a {program} backup manifest ({why})")]
    Malformed { program: String, why: String },
    #[error(
        "it is of format {found}, this {program} reads format {reads}: use a matching {program}"
    )]
    Format {
        program: String,
        found: u32,
        reads: u32,
    },
    #[error("its manifest does not match the key file: it was altered, or it was made under another key file (give the key file of the {program} that made it with --key-file)")]
    Altered { program: String },
}

/// Parses a backup's `manifest.json` and checks that it is of `format` and that its MAC holds
/// under `sealer`. `program` (`civreg-hub`) names the side in messages.
pub fn check_manifest<M: Manifest + serde::de::DeserializeOwned>(
    text: &[u8],
    program: &str,
    format: u32,
    sealer: &Sealer,
) -> Result<M, ManifestError> {
    let mut m: M = serde_json::from_slice(text).map_err(|e| ManifestError::Malformed {
        program: program.into(),
        why: e.to_string(),
    })?;
    if m.format() != format {
        return Err(ManifestError::Format {
            program: program.into(),
            found: m.format(),
            reads: format,
        });
    }
    let expected = m.mac_with(sealer);
    if *m.mac_mut() != expected {
        return Err(ManifestError::Altered {
            program: program.into(),
        });
    }
    Ok(m)
}

/// What a finished body holds, for its manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub frames: u64,
    pub entries: u64,
    pub bytes: u64,
    /// SHA-256 of the body, hex.
    pub sha256: String,
}

/// Why a body was refused.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("the snapshot could not be read: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Refused(String),
}

/// Writes a body.
pub struct Writer<'a, W: Write> {
    out: W,
    sealer: &'a Sealer,
    id: String,
    sha: ring::digest::Context,
    plain: Vec<u8>,
    frames: u64,
    entries: u64,
    bytes: u64,
}

impl<'a, W: Write> Writer<'a, W> {
    /// A body for the backup `id`, sealed with `sealer`.
    pub fn new(out: W, sealer: &'a Sealer, id: &str) -> std::io::Result<Self> {
        let mut w = Writer {
            out,
            sealer,
            id: id.to_string(),
            sha: ring::digest::Context::new(&ring::digest::SHA256),
            plain: Vec::with_capacity(FRAME_BYTES + 4096),
            frames: 0,
            entries: 0,
            bytes: 0,
        };
        w.raw(MAGIC)?;
        Ok(w)
    }

    fn raw(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.sha.update(b);
        self.bytes += b.len() as u64;
        self.out.write_all(b)
    }

    /// Adds one entry. `space` is at most 255 bytes; keys and values under 4 GiB.
    pub fn entry(&mut self, space: &str, key: &[u8], value: &[u8]) -> std::io::Result<()> {
        let name = space.as_bytes();
        let too_long = |what: &str| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("a snapshot entry's {what} is too long"),
            )
        };
        let nl = u8::try_from(name.len()).map_err(|_| too_long("space"))?;
        let kl = u32::try_from(key.len()).map_err(|_| too_long("key"))?;
        let vl = u32::try_from(value.len()).map_err(|_| too_long("value"))?;
        self.plain.push(nl);
        self.plain.extend_from_slice(name);
        self.plain.extend_from_slice(&kl.to_be_bytes());
        self.plain.extend_from_slice(key);
        self.plain.extend_from_slice(&vl.to_be_bytes());
        self.plain.extend_from_slice(value);
        self.entries += 1;
        if self.plain.len() >= FRAME_BYTES {
            self.frame()?;
        }
        Ok(())
    }

    fn frame(&mut self) -> std::io::Result<()> {
        if self.plain.is_empty() {
            return Ok(());
        }
        let ad = format!("{}/{}", self.id, self.frames);
        let sealed = self.sealer.seal(SEAL_TREE, ad.as_bytes(), &self.plain);
        self.plain.clear();
        self.raw(&(sealed.len() as u32).to_be_bytes())?;
        self.raw(&sealed)?;
        self.frames += 1;
        Ok(())
    }

    /// Seals the last frame; returns the writer and what the body holds.
    pub fn finish(mut self) -> std::io::Result<(W, Summary)> {
        self.frame()?;
        self.out.flush()?;
        let summary = Summary {
            frames: self.frames,
            entries: self.entries,
            bytes: self.bytes,
            sha256: hex::encode(self.sha.finish().as_ref()),
        };
        Ok((self.out, summary))
    }
}

/// The length and SHA-256 (hex) of everything `r` gives.
pub fn checksum(mut r: impl Read) -> std::io::Result<(u64, String)> {
    let mut sha = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0u8; 1 << 16];
    let mut len = 0u64;
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        len += n as u64;
        sha.update(&buf[..n]);
    }
    Ok((len, hex::encode(sha.finish().as_ref())))
}

/// Reads a body of the backup `id` that its manifest says holds `expect`: checks every frame's
/// seal, its place and the counts, and hands each frame's entries to `apply` (nothing of a
/// frame before it opened). Check the checksum first ([`checksum`]) to name a damaged file as
/// such.
pub fn read<E: From<SnapshotError>>(
    mut r: impl Read,
    sealer: &Sealer,
    id: &str,
    expect: &Summary,
    mut apply: impl FnMut(Vec<Entry>) -> Result<(), E>,
) -> Result<(), E> {
    let refused = |why: String| E::from(SnapshotError::Refused(why));
    let mut magic = vec![0u8; MAGIC.len()];
    r.read_exact(&mut magic)
        .map_err(|_| refused("the snapshot is empty".into()))?;
    if magic != MAGIC {
        return Err(refused("it is not a civreg snapshot".into()));
    }
    let mut entries = 0u64;
    for i in 0..expect.frames {
        let mut l = [0u8; 4];
        r.read_exact(&mut l)
            .map_err(|_| refused(format!("the snapshot ends before frame {i}")))?;
        let l = u32::from_be_bytes(l) as usize;
        if l > MAX_FRAME {
            return Err(refused(format!("frame {i} is too large ({l} bytes)")));
        }
        let mut sealed = vec![0u8; l];
        r.read_exact(&mut sealed)
            .map_err(|_| refused(format!("the snapshot ends inside frame {i}")))?;
        let ad = format!("{id}/{i}");
        let plain = sealer
            .open(SEAL_TREE, ad.as_bytes(), &sealed)
            .map_err(|_| refused(format!("frame {i} does not open with this key: altered")))?;
        let out = parse_frame(&plain).ok_or_else(|| refused(format!("frame {i} is malformed")))?;
        entries += out.len() as u64;
        apply(out)?;
    }
    let mut rest = [0u8; 1];
    let more = r.read(&mut rest).map_err(|e| E::from(e.into()))?;
    if more != 0 || entries != expect.entries {
        return Err(refused(format!(
            "it holds {entries} entries where its manifest says {}",
            expect.entries
        )));
    }
    Ok(())
}

fn parse_frame(mut p: &[u8]) -> Option<Vec<Entry>> {
    let mut out = Vec::new();
    while !p.is_empty() {
        let nl = *p.first()? as usize;
        let name = std::str::from_utf8(p.get(1..1 + nl)?).ok()?.to_string();
        p = &p[1 + nl..];
        let mut take = || -> Option<Vec<u8>> {
            let l = u32::from_be_bytes(p.get(..4)?.try_into().ok()?) as usize;
            let v = p.get(4..4 + l)?.to_vec();
            p = &p[4 + l..];
            Some(v)
        };
        let k = take()?;
        let v = take()?;
        out.push((name, k, v));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct TestManifest {
        format: u32,
        entries: u64,
        mac: String,
    }

    impl Manifest for TestManifest {
        const MAC_DOMAIN: &'static str = "civreg-test backup manifest v1";
        fn format(&self) -> u32 {
            self.format
        }
        fn mac_mut(&mut self) -> &mut String {
            &mut self.mac
        }
    }

    #[test]
    fn a_manifest_is_read_only_when_its_format_and_mac_hold() {
        let key = sealer();
        let mut m = TestManifest {
            format: 1,
            entries: 7,
            mac: String::new(),
        };
        m.mac = m.mac_with(&key);
        let text = serde_json::to_vec(&m).unwrap();
        let read: TestManifest = check_manifest(&text, "civreg-test", 1, &key).unwrap();
        assert_eq!(read, m);
        // An edited count, another key, another format, or no manifest at all: refused.
        let edited = String::from_utf8(text.clone()).unwrap().replace("7", "8");
        let e = check_manifest::<TestManifest>(edited.as_bytes(), "civreg-test", 1, &key);
        assert!(matches!(e, Err(ManifestError::Altered { .. })), "{e:?}");
        let other = Sealer::new(b"test", &[4; 32]);
        let e = check_manifest::<TestManifest>(&text, "civreg-test", 1, &other);
        assert!(matches!(e, Err(ManifestError::Altered { .. })), "{e:?}");
        let e = check_manifest::<TestManifest>(&text, "civreg-test", 2, &key).unwrap_err();
        assert!(
            e.to_string()
                .contains("format 1, this civreg-test reads format 2"),
            "{e}"
        );
        let e = check_manifest::<TestManifest>(b"{]", "civreg-test", 1, &key).unwrap_err();
        assert!(matches!(e, ManifestError::Malformed { .. }), "{e}");
    }

    fn sealer() -> Sealer {
        Sealer::new(b"test", &[3; 32])
    }

    fn body(entries: &[Entry]) -> (Vec<u8>, Summary) {
        let s = sealer();
        let mut w = Writer::new(Vec::new(), &s, "id1").unwrap();
        for (n, k, v) in entries {
            w.entry(n, k, v).unwrap();
        }
        w.finish().unwrap()
    }

    fn read_all(b: &[u8], sum: &Summary) -> Result<Vec<Entry>, SnapshotError> {
        let mut got = Vec::new();
        read(b, &sealer(), "id1", sum, |e| {
            got.extend(e);
            Ok::<_, SnapshotError>(())
        })?;
        Ok(got)
    }

    #[test]
    fn a_body_reads_back_and_refuses_any_change() {
        let entries: Vec<_> = (0..3000u32)
            .map(|i| {
                (
                    "ops".to_string(),
                    i.to_be_bytes().to_vec(),
                    vec![i as u8; 700],
                )
            })
            .collect();
        let (b, sum) = body(&entries);
        assert!(sum.frames >= 2, "{sum:?}");
        assert_eq!(
            checksum(b.as_slice()).unwrap(),
            (sum.bytes, sum.sha256.clone())
        );
        assert_eq!(read_all(&b, &sum).unwrap(), entries);
        // A flipped byte, a frame dropped, or a body cut short: refused.
        let mut bad = b.clone();
        let at = b.len() - 10;
        bad[at] ^= 1;
        assert!(read_all(&bad, &sum).is_err());
        assert!(read_all(&b[..b.len() - 1], &sum).is_err());
        let fewer = Summary {
            frames: sum.frames - 1,
            ..sum.clone()
        };
        assert!(read_all(&b, &fewer).is_err());
        // Another backup's id or key: refused.
        assert!(read(b.as_slice(), &sealer(), "id2", &sum, |_| Ok::<
            _,
            SnapshotError,
        >(()))
        .is_err());
        let other = Sealer::new(b"test", &[4; 32]);
        assert!(read(
            b.as_slice(),
            &other,
            "id1",
            &sum,
            |_| Ok::<_, SnapshotError>(())
        )
        .is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096), frames in 0u64..4) {
            let sum = Summary { frames, entries: 1, bytes: 0, sha256: String::new() };
            let _ = read_all(&bytes, &sum);
            let _ = parse_frame(&bytes);
        }
    }
}
