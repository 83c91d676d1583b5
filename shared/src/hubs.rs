//! The list of hub addresses an enrolment bundle carries (issue 19 part 3): one rule for the hub
//! that writes it (`civreg-hub pki issue --hub-url`, repeatable) and the node that reads it
//! (`civreg-node init|enrol --bundle`).
//!
//! A bundle of the first format holds one address (`hub_url`); a bundle of this format holds the
//! list (`hub_urls`) and, for nodes that know only the first format, its first address in
//! `hub_url` as well. The node tries the addresses in the list's order and keeps to the one that
//! works (`node/src/worker.rs`).

/// Most hub addresses one bundle may list.
pub const MAX_HUBS: usize = 16;
/// The longest hub address accepted.
pub const MAX_HUB_URL_BYTES: usize = 256;

/// What is wrong with a list of hub addresses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HubUrlError {
    #[error("no hub address: give at least one, e.g. https://hub.civreg.rks:7443")]
    Empty,
    #[error(
        "{count} hub addresses: at most {MAX_HUBS} are accepted; list the hubs the offices use"
    )]
    TooMany { count: usize },
    #[error("hub address {url:?}: {why}; write it as https://HOST:PORT, e.g. https://hub.civreg.rks:7443")]
    Bad { url: String, why: &'static str },
    #[error("hub address {url:?} is listed twice: list each hub once")]
    Twice { url: String },
}

/// Checks one hub address: `https://HOST[:PORT][/]`, HOST a DNS name, an IPv4 address or an
/// IPv6 address in brackets. The node verifies the hub's certificate against HOST.
pub fn check_url(url: &str) -> Result<(), HubUrlError> {
    let bad = |why| HubUrlError::Bad {
        url: url.chars().take(MAX_HUB_URL_BYTES).collect(),
        why,
    };
    if url.len() > MAX_HUB_URL_BYTES {
        return Err(bad("it is too long"));
    }
    let Some(rest) = url.strip_prefix("https://") else {
        return Err(bad("it must start with https://"));
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains(['/', '?', '#', '@']) || rest.chars().any(|c| c.is_whitespace()) {
        return Err(bad("it must name a host and a port only"));
    }
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let Some((host, after)) = v6.split_once(']') else {
            return Err(bad("an IPv6 address must be closed with ]"));
        };
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(bad("not an IPv6 address in brackets"));
        }
        match after {
            "" => (host, None),
            p => match p.strip_prefix(':') {
                Some(p) => (host, Some(p)),
                None => return Err(bad("unexpected text after the IPv6 address")),
            },
        }
    } else {
        match rest.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    if host.is_empty() {
        return Err(bad("it names no host"));
    }
    let host_ok = host.contains(':')
        || host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    if !host_ok {
        return Err(bad("its host is not a DNS name or an IP address"));
    }
    if let Some(p) = port {
        match p.parse::<u16>() {
            Ok(n) if n > 0 && !p.starts_with('+') => {}
            _ => return Err(bad("its port is not a number from 1 to 65535")),
        }
    }
    Ok(())
}

/// The host a checked address names, without brackets: what the hub's certificate must name.
pub fn host(url: &str) -> &str {
    let rest = url.strip_prefix("https://").unwrap_or(url);
    let rest = rest.split('/').next().unwrap_or(rest);
    if let Some(v6) = rest.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6);
    }
    rest.split(':').next().unwrap_or(rest)
}

/// Checks a whole list: not empty, at most [`MAX_HUBS`], each address valid and listed once.
pub fn check_list(urls: &[String]) -> Result<(), HubUrlError> {
    if urls.is_empty() {
        return Err(HubUrlError::Empty);
    }
    if urls.len() > MAX_HUBS {
        return Err(HubUrlError::TooMany { count: urls.len() });
    }
    for (i, u) in urls.iter().enumerate() {
        check_url(u)?;
        if urls[..i]
            .iter()
            .any(|v| v.trim_end_matches('/') == u.trim_end_matches('/'))
        {
            return Err(HubUrlError::Twice { url: u.clone() });
        }
    }
    Ok(())
}

/// The addresses a bundle names: its list, or the one address of a first-format bundle.
pub fn listed(hub_url: &str, hub_urls: &[String]) -> Vec<String> {
    if hub_urls.is_empty() {
        vec![hub_url.to_string()]
    } else {
        hub_urls.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn good_addresses_pass() {
        for u in [
            "https://localhost:7443",
            "https://hub.civreg.rks:7443/",
            "https://10.0.0.5:7443",
            "https://[::1]:7443",
            "https://hub-2.civreg.rks",
        ] {
            assert_eq!(check_url(u), Ok(()), "{u}");
        }
    }

    #[test]
    fn bad_addresses_say_what_is_wrong() {
        for (u, why) in [
            ("http://hub:7443", "https://"),
            ("https://:7443", "no host"),
            ("https://hub:0", "port"),
            ("https://hub:70000", "port"),
            ("https://hub:+7443", "port"),
            ("https://hub:7443/sync", "host and a port only"),
            ("https://user@hub:7443", "host and a port only"),
            ("https://hub name:7443", "host and a port only"),
            ("https://hub_1:7443", "DNS name"),
            ("https://[::1:7443", "closed"),
            ("https://[zz]:7443", "IPv6"),
            ("https://-hub:7443", "DNS name"),
        ] {
            let e = check_url(u).expect_err(u).to_string();
            assert!(e.contains(why), "{u}: {e}");
            assert!(e.contains("https://HOST:PORT"), "{u}: {e}");
        }
        let long = format!("https://{}.rks:7443", "a".repeat(400));
        assert!(check_url(&long).is_err());
    }

    #[test]
    fn a_list_is_not_empty_bounded_and_names_each_hub_once() {
        let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(check_list(&[]), Err(HubUrlError::Empty));
        assert_eq!(
            check_list(&l(&["https://a:1", "https://b:1"])),
            Ok(()),
            "two hubs"
        );
        assert!(matches!(
            check_list(&l(&["https://a:1", "https://a:1/"])),
            Err(HubUrlError::Twice { .. })
        ));
        let many: Vec<String> = (1..=MAX_HUBS + 1)
            .map(|i| format!("https://h{i}:7443"))
            .collect();
        assert!(matches!(
            check_list(&many),
            Err(HubUrlError::TooMany { .. })
        ));
        assert!(check_list(&many[..MAX_HUBS]).is_ok());
    }

    #[test]
    fn the_host_is_what_the_certificate_must_name() {
        assert_eq!(host("https://hub.civreg.rks:7443/"), "hub.civreg.rks");
        assert_eq!(host("https://10.0.0.5"), "10.0.0.5");
        assert_eq!(host("https://[::1]:7443"), "::1");
    }

    #[test]
    fn a_first_format_bundle_lists_its_one_address() {
        assert_eq!(listed("https://a:1", &[]), vec!["https://a:1".to_string()]);
        let two = vec!["https://b:1".to_string(), "https://c:1".to_string()];
        assert_eq!(listed("https://b:1", &two), two);
    }

    proptest! {
        #[test]
        fn no_text_makes_the_check_panic(s in ".{0,300}") {
            let _ = check_url(&s);
            let _ = check_url(&format!("https://{s}"));
        }
    }
}
