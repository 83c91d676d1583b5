//! The addresses of every hub process (issue 19 part 3): `hub_urls` of the hub's config file
//! (`CIVREG_HUB_HUB_URLS`), which `pki issue` and `pki issue-operator` write into bundles when
//! no `--hub-url` is given, and `civreg-hub status` and the dashboard show. A node verifies each
//! hub against the host it dials, so every host listed must be a name of the hub's certificate:
//! `serve` and `pki issue` refuse a list that names one it does not carry.

use crate::pki::{Pki, PkiError};

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
