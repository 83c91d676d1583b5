//! The registry of every key prefix the hub's store uses: the keyspaces of its one key space
//! (each a prefix byte and `/`), the keys of `meta`, and the prefixes that the hub's modules
//! choose for their state beside the log (`aux`, [`super::HubStore::aux_get`]).
//!
//! A new kind of key is added here first, with what it holds and whether it is personal (keys
//! stay in clear at rest; only values are sealed, [`super::seal`]). The test at the end refuses
//! two prefixes of which one starts the other, so no module can read another's state by a scan.

/// One keyspace: its prefix in the store's key space, the name its sealed values are bound to,
/// and whether its values are sealed at rest.
#[derive(Debug, Clone, Copy)]
pub struct Keyspace {
    pub prefix: &'static [u8],
    pub name: &'static str,
    pub sealed: bool,
}

impl Keyspace {
    /// The key of `k` in this keyspace: the prefix, then `k`.
    pub fn key(&self, k: impl AsRef<[u8]>) -> Vec<u8> {
        let k = k.as_ref();
        let mut out = Vec::with_capacity(self.prefix.len() + k.len());
        out.extend_from_slice(self.prefix);
        out.extend_from_slice(k);
        out
    }
}

/// `"m/n"` → the verified head of that node's chain (sequence number and hash).
pub const CHAINS: Keyspace = Keyspace {
    prefix: b"c/",
    name: "chains",
    sealed: false,
};
/// `"m/n" 0 first-seq` → the feed key of the run that holds ops from that sequence number.
pub const OPS: Keyspace = Keyspace {
    prefix: b"o/",
    name: "ops",
    sealed: false,
};
/// `m 0 last-pos` → a run of ops whose records belong to municipality `m` (personal).
pub const FEED: Keyspace = Keyspace {
    prefix: b"f/",
    name: "feed",
    sealed: true,
};
/// Registration number → merged state: layout 4's, read only to upgrade it.
pub const RECORDS: Keyspace = Keyspace {
    prefix: b"r/",
    name: "records",
    sealed: false,
};
/// Registration number less its last character → the merged states of those records
/// (personal).
pub const BUCKETS: Keyspace = Keyspace {
    prefix: b"b/",
    name: "buckets",
    sealed: true,
};
/// Conflict id → the filed conflict, JSON (field values: personal).
pub const CONFLICTS: Keyspace = Keyspace {
    prefix: b"k/",
    name: "conflicts",
    sealed: true,
};
/// The store's own bookkeeping: the keys [`META_LAYOUT`], [`META_FEED_POS`], [`META_KEY_CHECK`].
pub const META: Keyspace = Keyspace {
    prefix: b"m/",
    name: "meta",
    sealed: false,
};
/// The hub modules' state beside the log, under the prefixes below (personal: sealed).
pub const AUX: Keyspace = Keyspace {
    prefix: b"x/",
    name: "aux",
    sealed: true,
};

/// Every keyspace, in no particular order.
pub const KEYSPACES: [Keyspace; 8] = [CHAINS, OPS, FEED, RECORDS, BUCKETS, CONFLICTS, META, AUX];

/// `meta`: the layout mark (see [`super::upgrade`]).
pub const META_LAYOUT: &str = "layout";
/// `meta`: the last feed position given to an op (8 bytes, big-endian).
pub const META_FEED_POS: &str = "feed_pos";
/// `meta`: a known text sealed with the hub's key, to tell a wrong key from damage.
pub const META_KEY_CHECK: &str = "key_check";
/// `meta`: an unfinished rotation of the at-rest key (JSON, in clear: it names no person),
/// ([`crate::rotate::atrest`]); the store refuses to open while it exists.
pub const META_ROTATION: &str = "rotation";
/// `meta`: an unfinished migration into this database (JSON, in clear: where from, a cursor)
/// ([`crate::migrate`]); the store refuses to open while it exists.
pub const META_MIGRATION: &str = "migration";

/// `aux`: `logseq/M/N` → the highest log head node M/N reported, and when (store).
pub const LOG_SEQ: &str = "logseq/";
/// `aux`: `aside/M/N/SEQ` → an operator's decision to set an op aside ([`super::aside`]).
pub const ASIDE: &str = "aside/";
/// `aux`: `pm/MENTION` → the person id a mention of a person in a record is linked to
/// ([`crate::linkage::persons`]).
pub const PERSON_OF_MENTION: &str = "pm/";
/// `aux`: `pi/PID` → a person id's first mention ([`crate::linkage::persons`]).
pub const PERSON_ID: &str = "pi/";
/// `aux`: `pl/PID/MENTION` → the mentions linked to a person id ([`crate::linkage::persons`]).
pub const PERSON_LINKS: &str = "pl/";
/// `aux`: `dq/ID` → a case of the duplicates queue ([`crate::linkage::duplicates`]).
pub const DUPLICATES: &str = "dq/";
/// `aux`: `dc/CLUSTER/TIME` → an operator's decision on a whole cluster of duplicate cases
/// ([`crate::linkage::clusters`]).
pub const CLUSTER_DECISIONS: &str = "dc/";
/// `aux`: `im/r/…` (a register entry) or `im/c/TOKEN` (blinded content) → the number an
/// imported record was given ([`crate::linkage::import`]).
pub const IMPORT_KEY: &str = "im/";
/// `aux`: `rs/M/YEAR/KIND` → the last number an import minted in that series
/// ([`crate::linkage::import`]).
pub const IMPORT_SEQ: &str = "rs/";
/// `aux`: `certissue/SERIAL` → an issued certificate's record ([`crate::certificates`]).
pub const CERT_ISSUE: &str = "certissue/";
/// `aux`: `certlast/OFFICE` → an office's last certificate serial ([`crate::certificates`]).
pub const CERT_LAST: &str = "certlast/";
/// `aux`: `certsigner/hub` → the hub's certificate signing key ([`crate::certificates`]).
pub const CERT_SIGNER: &str = "certsigner/";
/// `aux`: `certseq/hub/…` → the hub's own certificate serial counter ([`crate::certificates`]).
pub const CERT_SEQ: &str = "certseq/";

/// `aux`: `model/saved/ID` → a saved matching model, `model/current` → the id in use
/// ([`crate::linkage::models`]; the register's name frequencies: personal).
pub const MODELS: &str = "model/";

/// `aux`: `dash/seen/M/N` → what the hub last heard from node M/N and its last push errors,
/// `dash/hist/M/N/HOUR` → its 24-hour history's samples of one hour, so that the dashboard
/// survives a restart ([`crate::status::Keeper`]; not personal).
pub const DASHBOARD: &str = "dash/";

/// `aux`: `keyrot/search` → an unfinished rotation of the search key, with its cursor
/// ([`crate::rotate::search`]); the store refuses to open while it exists.
pub const KEY_ROTATION: &str = "keyrot/";
/// `aux`: `uv/ID` → a clerk's request to un-void a record and the operator's answer
/// ([`crate::unvoid`]; names a clerk and a record: personal).
pub const UNVOID: &str = "uv/";
/// `aux`: `clerks/M/N` → office M/N's clerk accounts, names and argon2id hashes as the node
/// keeps them ([`crate::clerks`]; names people: personal).
pub const CLERKS: &str = "clerks/";
/// `aux`: `uvx/p/M/ID` → nothing, while request ID of municipality M waits for an answer;
/// `uvx/a/TIME/ID` → nothing, request ID answered at TIME (ms, 20 digits); `uvx/built` → the
/// index covers every request: the dashboard counts and lists without decoding every request
/// ([`crate::unvoid`]; ids and municipality codes only).
pub const UNVOID_INDEX: &str = "uvx/";

/// `aux`: `refused/M/N` → the op of that chain a hub last refused for its content, while an
/// operator may set it aside ([`super::aside`]; names a record: sealed like the rest).
pub const REFUSED: &str = "refused/";

/// `aux`: `session/SHA256` → a dashboard session (account, CSRF token, times) by the hash of
/// its id ([`crate::web::auth::Sessions`]; names an operator: sealed like the rest).
pub const SESSIONS: &str = "session/";

/// `aux`: `rollout/version` → the rollout plan's version (8 bytes, big-endian),
/// `rollout/plan` → the plan, JSON: every municipality's stage, written together by
/// compare-and-set; each hub follows the version ([`crate::rollout`]; names operators).
pub const ROLLOUT: &str = "rollout/";

/// `aux`: `operators/accounts` → the dashboard's operator accounts (names, argon2id hashes),
/// JSON, written by compare-and-set and read at every sign-in ([`crate::operators`]).
pub const OPERATORS: &str = "operators/";

/// `aux`: `pki/version` → the registry's version (8 bytes, big-endian), `pki/registry` → every
/// certificate the agency PKI issued and whether it is revoked, JSON, written together by
/// compare-and-set; each hub follows it into its PKI directory ([`crate::pki::shared`]).
pub const PKI: &str = "pki/";

/// `aux`: `ill/M/REGNO/ROLE` → a person of a central import whose given name is illegible in
/// the register page, waiting for review ([`crate::linkage::illegible`]).
pub const ILLEGIBLE: &str = "ill/";

/// `aux`: `hubs/list` → the hub list offices sync with, as an operator set it with
/// `civreg-hub hub-urls set` ([`crate::hub_list`]; addresses and an operator's name).
pub const HUB_LIST: &str = "hubs/";
/// `aux`: `audit/TRAIL/TIME/SUFFIX` → one entry of an operators' audit trail (`rollout`: stage
/// changes, `actions`: what operators did), JSON, append-only, keys ordered by time with a
/// suffix that keeps two hubs' entries apart ([`crate::audit`]; names operators).
pub const AUDIT: &str = "audit/";

/// `aux`: `ccan/SERIAL` → a citizen's certificate cancelled by an operator, JSON
/// (`crate::certificates::Cancelled`; names the operator), written once by compare-and-set.
pub const CERT_CANCELLED: &str = "ccan/";

/// Every `aux` prefix.
pub const AUX_PREFIXES: [&str; 29] = [
    LOG_SEQ,
    ASIDE,
    REFUSED,
    SESSIONS,
    PERSON_OF_MENTION,
    PERSON_ID,
    PERSON_LINKS,
    DUPLICATES,
    CLUSTER_DECISIONS,
    IMPORT_KEY,
    IMPORT_SEQ,
    CERT_ISSUE,
    CERT_LAST,
    CERT_SIGNER,
    CERT_SEQ,
    MODELS,
    DASHBOARD,
    KEY_ROTATION,
    UNVOID,
    CLERKS,
    UNVOID_INDEX,
    ROLLOUT,
    OPERATORS,
    PKI,
    ILLEGIBLE,
    HUB_LIST,
    AUDIT,
    CERT_CANCELLED,
    // Not a module's: the tests' own scratch keys.
    "t/",
];

/// `key` under the `aux` prefix `prefix` (one of the constants above).
pub fn aux_key(prefix: &str, rest: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + rest.len());
    k.extend_from_slice(prefix.as_bytes());
    k.extend_from_slice(rest.as_bytes());
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disjoint(prefixes: &[&[u8]]) {
        for (i, a) in prefixes.iter().enumerate() {
            for (j, b) in prefixes.iter().enumerate() {
                assert!(
                    i == j || !b.starts_with(a),
                    "{:?} starts {:?}: a scan of one reads the other",
                    String::from_utf8_lossy(a),
                    String::from_utf8_lossy(b)
                );
            }
        }
    }

    #[test]
    fn no_prefix_starts_another() {
        disjoint(&KEYSPACES.map(|k| k.prefix));
        disjoint(&AUX_PREFIXES.map(str::as_bytes));
        let names = KEYSPACES.map(|k| k.name);
        for n in names {
            assert_eq!(names.iter().filter(|m| **m == n).count(), 1, "{n}");
        }
    }
}
