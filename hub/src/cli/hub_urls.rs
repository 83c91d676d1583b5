//! `civreg-hub hub-urls [show|set URL...|clear]`: the hub list offices sync with (issue 19
//! part 3), kept in the hub's store ([`crate::hub_list`]): every hub over it sends a change
//! from its next heartbeat, and enrolled offices take it without a new bundle.

use super::args::HubUrlsCommand;
use super::{ask, print_answer, Ctx};
use crate::control::Request;
use crate::hub_list::HubUrls;
use crate::pki::Pki;
use anyhow::Result;

/// `civreg-hub hub-urls COMMAND`.
pub(super) fn run(ctx: &Ctx, command: Option<HubUrlsCommand>) -> Result<()> {
    let (answer, changed) = match command.unwrap_or(HubUrlsCommand::Show) {
        HubUrlsCommand::Show => (ask::<HubUrls>(&ctx.data_dir, Request::HubUrls)?, false),
        HubUrlsCommand::Set { urls, operator } => {
            // Checked here first, where the PKI is: every host a name of the hub's certificate,
            // else offices would refuse the list (they check it against the certificate too).
            civreg_shared::hubs::check_list(&urls)?;
            if let Ok(pki) = Pki::open(&ctx.pki_dir) {
                crate::hub_list::check_named(&pki, &urls, "hub-urls set")?;
            }
            let a = ask::<HubUrls>(&ctx.data_dir, Request::HubUrlsSet { urls, operator })?;
            (a, true)
        }
        HubUrlsCommand::Clear { operator } => {
            let a = ask::<HubUrls>(
                &ctx.data_dir,
                Request::HubUrlsSet {
                    urls: Vec::new(),
                    operator,
                },
            )?;
            (a, true)
        }
    };
    let configured = ctx.cfg.hub_urls.clone();
    print_answer(ctx.json, &answer, || {
        let mut s = match &answer.stored {
            Some(l) => format!(
                "hub list sent to offices: {}\n  set by {} at {}\n",
                l.urls.join(", "),
                l.set_by,
                crate::web::fmt::utc_ms(l.set_at_ms),
            ),
            None if configured.is_empty() => {
                "no hub list stored, and none in this hub's config (hub_urls): offices keep the list they have\n".to_string()
            }
            None => format!(
                "no hub list stored: each hub sends hub_urls of its config; this one's: {}\n",
                configured.join(", ")
            ),
        };
        if changed && (answer.stored.is_some() || !configured.is_empty()) {
            s.push_str("offices take it at their next sync round (`civreg-node status` shows the list in use and where it came from)");
        }
        s.trim_end().to_string()
    })
}
