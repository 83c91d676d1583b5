//! The addresses of every hub process (issue 19 part 3): `hub_urls` of the hub's config file
//! (`CIVREG_HUB_HUB_URLS`), which `pki issue` and `pki issue-operator` write into bundles when
//! no `--hub-url` is given, and `civreg-hub status` and the dashboard show. A node verifies each
//! hub against the host it dials, so every host listed must be a name of the hub's certificate:
//! `serve` and `pki issue` refuse a list that names one it does not carry.
//!
//! **The list offices sync with** ([`in_use`]): the one an operator stored with `civreg-hub
//! hub-urls set URL...` (in the store, `aux` [`HUB_LIST_KEY`], so shared by every hub over one
//! PostgreSQL and read again at every heartbeat: a change applies at once, without a restart),
//! else `hub_urls` of the config. Every heartbeat reply carries it (`HeartbeatReply.hub_urls`),
//! and an enrolled office takes it from its next round (`node/src/hublist.rs`), so a changed
//! list reaches offices without new bundles. No list at all sends nothing ("no news"). The
//! dashboard's overview shows the same list.

use crate::pki::{Pki, PkiError};
use crate::store::{aux, HubStore, StoreError};
use serde::{Deserialize, Serialize};

/// `aux` key of the list an operator stored (JSON [`StoredList`]).
pub const HUB_LIST_KEY: &str = "list";

/// The list an operator stored with `civreg-hub hub-urls set`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredList {
    /// In the order offices try them; checked with [`civreg_shared::hubs::check_list`].
    pub urls: Vec<String>,
    /// Who set it (`--operator`), and when (Unix ms).
    pub set_by: String,
    pub set_at_ms: u64,
}

/// The answer to `civreg-hub hub-urls` (`Request::HubUrls`, `Request::HubUrlsSet`): the list
/// stored, if any (none: offices get `hub_urls` of each hub's config).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubUrls {
    pub stored: Option<StoredList>,
}

/// Why a stored list is not taken.
#[derive(Debug, thiserror::Error)]
pub enum HubListError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("the hub list stored in the database is unreadable ({0}): set it again with `civreg-hub hub-urls set URL...`")]
    Damaged(String),
    #[error("{0}")]
    Invalid(#[from] civreg_shared::hubs::HubUrlError),
    #[error("who sets the hub list is required: give --operator NAME (or CIVREG_OPERATOR)")]
    OperatorRequired,
}

fn key() -> Vec<u8> {
    aux::aux_key(aux::HUB_LIST, HUB_LIST_KEY)
}

/// The list stored in `store`, if any.
pub fn stored(store: &HubStore) -> Result<Option<StoredList>, HubListError> {
    match store.aux_get(&key())? {
        None => Ok(None),
        Some(v) => {
            let l: StoredList =
                serde_json::from_slice(&v).map_err(|e| HubListError::Damaged(e.to_string()))?;
            civreg_shared::hubs::check_list(&l.urls)
                .map_err(|e| HubListError::Damaged(e.to_string()))?;
            Ok(Some(l))
        }
    }
}

/// Stores `urls` as the list offices sync with (checked first; that the hub's certificate
/// names each host is checked by the command, which reads the PKI); an empty `urls` removes
/// the stored list, so that `hub_urls` of the config applies again.
pub fn set_in(
    store: &HubStore,
    urls: &[String],
    operator: &str,
    now_ms: u64,
) -> Result<HubUrls, HubListError> {
    if operator.trim().is_empty() {
        return Err(HubListError::OperatorRequired);
    }
    if urls.is_empty() {
        store.aux_write(&[(key(), None)])?;
        tracing::info!(operator = %operator.trim(), "hub list removed from the store: each hub sends hub_urls of its config");
        return Ok(HubUrls { stored: None });
    }
    civreg_shared::hubs::check_list(urls)?;
    let l = StoredList {
        urls: urls.to_vec(),
        set_by: operator.trim().to_string(),
        set_at_ms: now_ms,
    };
    let v = serde_json::to_vec(&l).expect("a hub list is plain data and serialises");
    store.aux_write(&[(key(), Some(v))])?;
    tracing::info!(operator = %l.set_by, hubs = ?l.urls, "hub list stored: offices take it at their next heartbeat");
    Ok(HubUrls { stored: Some(l) })
}

/// The list heartbeats carry: the stored one, else `configured` (`hub_urls` of the config;
/// empty: none). A damaged stored list is logged and `configured` sent instead.
pub fn in_use(store: &HubStore, configured: &[String]) -> Vec<String> {
    match stored(store) {
        Ok(Some(l)) => l.urls,
        Ok(None) => configured.to_vec(),
        Err(e) => {
            tracing::warn!(error = %e, "the stored hub list is not sent; hub_urls of the config is");
            configured.to_vec()
        }
    }
}

/// Where bundles point when neither `--hub-url` nor `hub_urls` says: the pilot's hub.
pub const DEFAULT_HUB_URL: &str = "https://localhost:7443";

/// A hub address whose host the hub's certificate does not carry.
#[derive(Debug, thiserror::Error)]
pub enum NotNamed {
    #[error(
        "{origin}: hub address {url}: the hub's certificate does not name {host} (it names {names}), so nodes would refuse that hub; add it to the certificate with `civreg-hub pki renew-hub{renew}` (every name the certificate is to carry; operator manual, \"Several hub processes\"), or list only names it carries",
        names = names.join(", "),
        renew = names.iter().chain(std::iter::once(host)).map(|n| format!(" --hub-name {n}")).collect::<String>()
    )]
    Host {
        /// `hub_urls in the config` or `--hub-url`.
        origin: &'static str,
        url: String,
        host: String,
        names: Vec<String>,
    },
    #[error("{0}")]
    Pki(#[from] PkiError),
}

/// The list a bundle is to carry: `given` (`--hub-url`), else `configured` (`hub_urls`), else
/// [`DEFAULT_HUB_URL`]; and where it came from, for messages.
pub fn for_bundle(given: &[String], configured: &[String]) -> (Vec<String>, &'static str) {
    if !given.is_empty() {
        (given.to_vec(), "--hub-url")
    } else if !configured.is_empty() {
        (configured.to_vec(), "hub_urls in the config")
    } else {
        (vec![DEFAULT_HUB_URL.to_string()], "--hub-url")
    }
}

/// Checks that the hub's certificate names the host of every address of `urls` (already
/// checked by [`civreg_shared::hubs::check_list`]). A PKI with no hub certificate (names
/// unknown) passes.
pub fn check_named(pki: &Pki, urls: &[String], origin: &'static str) -> Result<(), NotNamed> {
    let names = pki.hub_cert_names()?;
    check_names(&names, urls, origin)
}

fn check_names(names: &[String], urls: &[String], origin: &'static str) -> Result<(), NotNamed> {
    if names.is_empty() {
        return Ok(());
    }
    for url in urls {
        let host = civreg_shared::hubs::host(url);
        if !names.iter().any(|n| n.eq_ignore_ascii_case(host)) {
            return Err(NotNamed::Host {
                origin,
                url: url.clone(),
                host: host.to_string(),
                names: names.to_vec(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn a_host_the_certificate_does_not_carry_is_named_with_the_command_that_adds_it() {
        let names = v(&["hub-a.civreg.rks", "localhost"]);
        check_names(
            &names,
            &v(&["https://hub-a.civreg.rks:7443", "https://LOCALHOST:7444"]),
            "hub_urls in the config",
        )
        .unwrap();
        let e = check_names(
            &names,
            &v(&[
                "https://hub-a.civreg.rks:7443",
                "https://hub-b.civreg.rks:7443",
            ]),
            "hub_urls in the config",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("hub_urls in the config: hub address https://hub-b.civreg.rks:7443"),
            "{e}"
        );
        assert!(
            e.contains("does not name hub-b.civreg.rks (it names hub-a.civreg.rks, localhost)"),
            "{e}"
        );
        assert!(
            e.contains("civreg-hub pki renew-hub --hub-name hub-a.civreg.rks --hub-name localhost --hub-name hub-b.civreg.rks`"),
            "{e}"
        );
        // Unknown names (no hub certificate yet) pass.
        check_names(&[], &v(&["https://x:1"]), "--hub-url").unwrap();
    }

    #[test]
    fn a_stored_list_wins_over_the_config_until_removed() {
        let store = HubStore::open_temporary().unwrap();
        let cfg = v(&["https://a:1"]);
        assert_eq!(in_use(&store, &cfg), cfg);
        assert_eq!(
            in_use(&store, &[]),
            Vec::<String>::new(),
            "no list: no news"
        );
        let set = set_in(&store, &v(&["https://a:1", "https://b:1"]), "ana", 7).unwrap();
        assert_eq!(set.stored.as_ref().unwrap().set_by, "ana");
        assert_eq!(in_use(&store, &cfg), v(&["https://a:1", "https://b:1"]));
        assert_eq!(stored(&store).unwrap(), set.stored);
        // A bad list is refused and the stored one kept.
        let e = set_in(&store, &v(&["http://c:1"]), "ana", 8).unwrap_err();
        assert!(e.to_string().contains("must start with https://"), "{e}");
        let e = set_in(&store, &v(&["https://c:1"]), " ", 8).unwrap_err();
        assert!(e.to_string().contains("--operator"), "{e}");
        assert_eq!(in_use(&store, &cfg), v(&["https://a:1", "https://b:1"]));
        // Removed: the config's again.
        assert_eq!(set_in(&store, &[], "ana", 9).unwrap().stored, None);
        assert_eq!(in_use(&store, &cfg), cfg);
        // A damaged value is not sent; the config's is.
        store
            .aux_write(&[(
                key(),
                Some(br#"{"urls":["ftp://x"],"set_by":"x","set_at_ms":1}"#.to_vec()),
            )])
            .unwrap();
        assert!(matches!(stored(&store), Err(HubListError::Damaged(_))));
        assert_eq!(in_use(&store, &cfg), cfg);
    }

    #[test]
    fn a_bundle_takes_the_flag_then_the_config_then_the_pilot_default() {
        let cfg = v(&["https://a:1", "https://b:1"]);
        assert_eq!(
            for_bundle(&v(&["https://c:1"]), &cfg).0,
            v(&["https://c:1"])
        );
        assert_eq!(
            for_bundle(&[], &cfg),
            (cfg.clone(), "hub_urls in the config")
        );
        assert_eq!(for_bundle(&[], &[]).0, v(&[DEFAULT_HUB_URL]));
    }
}
