//! The public verification page (issue 15): `GET /verify` (a form), `POST /verify` (the
//! answer). No sign-in. It passes the dashboard's guard like every route (host check, body
//! limit, strict CSP without scripts, no caching) and escapes everything it prints.
//!
//! It answers valid or not, and why not; the signed fields; whether the signer is revoked, the
//! record voided or amended since, the certificate cancelled ([`crate::certificates::check`]).
//! Every verification is appended to the access log as `public verification` with the serial
//! and the record: nothing about who asked (no address, no browser).

use super::templates;
use super::{blocking, Context, WebError};
use crate::certificates;
use axum::extract::{Form, State};
use axum::response::{Html, IntoResponse, Response};
use civreg_cert::Refusal;
use civreg_shared::i18n::{Arg, Catalog, Lang};
use minijinja::context;
use minijinja::value::Value;
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    qr: String,
}

pub async fn form() -> Result<Html<String>, WebError> {
    templates::page(None, "verify.html", context! {})
}

/// Why a certificate is not valid, in `lang` (the checks' own words are English).
fn refusal_text(lang: Lang, r: &Refusal) -> String {
    let (key, args): (&str, Vec<(&str, Arg)>) = match r {
        Refusal::Undecodable(why) => ("dash-refusal-undecodable", vec![("why", why.into())]),
        Refusal::UnknownSigner { kid } => {
            ("dash-refusal-unknown-signer", vec![("kid", kid.into())])
        }
        Refusal::BadSignature => ("dash-refusal-bad-signature", vec![]),
        Refusal::SignerExpired {
            signer,
            not_before,
            not_after,
            issued,
        } => (
            "dash-refusal-signer-expired",
            vec![
                ("signer", signer.into()),
                ("from", not_before.into()),
                ("to", not_after.into()),
                ("issued", issued.into()),
            ],
        ),
        Refusal::SignerRevoked { signer, revoked_at } => (
            "dash-refusal-signer-revoked",
            vec![("signer", signer.into()), ("at", revoked_at.into())],
        ),
        Refusal::ForeignSerial {
            signer,
            office,
            serial,
        } => (
            "dash-refusal-foreign-serial",
            vec![
                ("signer", signer.into()),
                ("office", office.into()),
                ("serial", serial.into()),
            ],
        ),
        Refusal::UnknownSerial(serial) => (
            "dash-refusal-unknown-serial",
            vec![("serial", serial.into())],
        ),
        Refusal::Cancelled { at, reason } => (
            "dash-refusal-cancelled",
            vec![("at", at.into()), ("reason", reason.into())],
        ),
        Refusal::RecordVoided { regno } => {
            ("dash-refusal-record-voided", vec![("regno", regno.into())])
        }
        Refusal::RecordAmended { regno, issued, now } => (
            "dash-refusal-record-amended",
            vec![
                ("regno", regno.into()),
                ("issued", (*issued).into()),
                ("now", (*now).into()),
            ],
        ),
    };
    Catalog::get().format(lang, key, &args)
}

/// A signed field: `key` names it (`dash-verify-claim-KEY`), or `role` (a person's role as
/// the certificate names it).
#[derive(Debug, Serialize)]
struct ClaimRow {
    key: &'static str,
    role: String,
    value: String,
}

#[derive(Debug, Serialize)]
struct AnswerView {
    /// `valid`, `pending` or `invalid`.
    verdict: &'static str,
    ok: bool,
    code: &'static str,
    why: String,
    signer: String,
    issued_on: String,
    office: String,
    last_reported: Option<String>,
    claims: Vec<ClaimRow>,
    record_held: bool,
    reported: bool,
}

pub async fn check(State(ctx): State<Context>, Form(f): Form<VerifyForm>) -> Response {
    let c = ctx.clone();
    let lang = super::lang::current();
    match blocking(move || page(&c, &f.qr, lang)).await {
        Ok(view) => templates::page(
            None,
            "verify.html",
            context! { answer => Value::from_serialize(&view) },
        )
        .into_response(),
        Err(e) => e.into_response(),
    }
}

fn page(ctx: &Context, text: &str, lang: Lang) -> Result<AnswerView, WebError> {
    let trust = ctx
        .trust()
        .get(ctx.pki())
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let answer = certificates::check(text, &trust, ctx.store())
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let (serial, regno) = answer
        .claims
        .as_ref()
        .map(|c| (c.serial.clone(), c.regno.clone()))
        .unwrap_or_default();
    let outcome = match (&answer.result, &answer.pending) {
        (Ok(_), None) => "valid".to_owned(),
        (Ok(_), Some(_)) => "not-yet-reported".to_owned(),
        (Err(r), _) => r.code().to_owned(),
    };
    let log = crate::access::AccessLog::open(ctx.data_dir()).map_err(WebError::AccessLog)?;
    log.append(&crate::access::Entry {
        at_ms: crate::access::now_ms(),
        by: "public verification".into(),
        clerk: String::new(),
        action: "verify".into(),
        query: format!("certificate {serial} {outcome}").trim().to_owned(),
        records: if regno.is_empty() {
            vec![]
        } else {
            vec![regno]
        },
    })
    .map_err(WebError::AccessLog)?;

    let claim = |key: &'static str, value: &str| ClaimRow {
        key,
        role: String::new(),
        value: value.to_string(),
    };
    let mut claims = Vec::new();
    if let Some(c) = &answer.claims {
        claims.push(claim("serial", &c.serial));
        claims.push(claim("record", &c.regno));
        let kind = format!("dash-kind-{}", c.kind);
        let catalog = Catalog::get();
        claims.push(claim(
            "kind",
            &if catalog.has(lang, &kind) {
                catalog.text(lang, &kind)
            } else {
                c.kind.to_string()
            },
        ));
        claims.push(claim("issued", &c.issued_on));
        claims.push(claim("office", &c.office));
        claims.push(claim("version", &c.record_version.to_string()));
        claims.push(claim("event-date", c.event_date.as_deref().unwrap_or("—")));
        claims.push(claim("event-place", &c.event_place));
        for p in &c.people {
            let mut v = format!(
                "{} {}",
                civreg_cert::pdf::printed_name(&p.given_name),
                civreg_cert::pdf::printed_name(&p.surname)
            );
            if let Some(o) = &p.other_surname {
                v.push_str(&format!(" ({})", civreg_cert::pdf::printed_name(o)));
            }
            if let Some(d) = &p.date_of_birth {
                v.push_str(&format!(", {d}"));
            }
            if let Some(id) = &p.person_id {
                v.push_str(&format!(", {id}"));
            }
            // The role as the certificate itself words it (`civreg_cert::labels`).
            let role = civreg_cert::labels::try_text(lang, &format!("role-{}", p.role))
                .unwrap_or_else(|| p.role.clone());
            claims.push(ClaimRow {
                key: "",
                role,
                value: v,
            });
        }
    }
    let signer = match &answer.result {
        Ok(v) => v.signer.identity.clone(),
        Err(_) => String::new(),
    };
    Ok(AnswerView {
        verdict: match (&answer.result, &answer.pending) {
            (Ok(_), Some(_)) => "pending",
            (Ok(_), None) => "valid",
            (Err(_), _) => "invalid",
        },
        ok: answer.result.is_ok(),
        code: answer
            .result
            .as_ref()
            .err()
            .map(Refusal::code)
            .unwrap_or(""),
        why: answer
            .result
            .as_ref()
            .err()
            .map(|r| refusal_text(lang, r))
            .unwrap_or_default(),
        signer,
        issued_on: answer
            .pending
            .as_ref()
            .map(|p| p.issued_on.clone())
            .unwrap_or_default(),
        office: answer
            .pending
            .as_ref()
            .map(|p| p.office.clone())
            .unwrap_or_default(),
        last_reported: answer
            .pending
            .as_ref()
            .and_then(|p| p.last_reported.clone()),
        claims,
        record_held: answer.record_held,
        reported: answer.reported,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::templates::tests::assert_clean;
    use crate::web::templates::{page_in, Frame};

    const EVIL: &str = "<script>alert(1)</script>";

    fn every_refusal() -> Vec<Refusal> {
        let s = || EVIL.to_string();
        vec![
            Refusal::Undecodable(s()),
            Refusal::UnknownSigner { kid: s() },
            Refusal::BadSignature,
            Refusal::SignerExpired {
                signer: s(),
                not_before: s(),
                not_after: s(),
                issued: s(),
            },
            Refusal::SignerRevoked {
                signer: s(),
                revoked_at: s(),
            },
            Refusal::ForeignSerial {
                signer: s(),
                office: s(),
                serial: s(),
            },
            Refusal::UnknownSerial(s()),
            Refusal::Cancelled {
                at: s(),
                reason: s(),
            },
            Refusal::RecordVoided { regno: s() },
            Refusal::RecordAmended {
                regno: s(),
                issued: 1,
                now: 2,
            },
        ]
    }

    fn answer(verdict: &'static str, why: String, last: Option<String>) -> AnswerView {
        AnswerView {
            verdict,
            ok: verdict != "invalid",
            code: "x",
            why,
            signer: EVIL.into(),
            issued_on: EVIL.into(),
            office: EVIL.into(),
            last_reported: last,
            claims: [
                "serial",
                "record",
                "kind",
                "issued",
                "office",
                "version",
                "event-date",
                "event-place",
                "",
            ]
            .into_iter()
            .map(|key| ClaimRow {
                key,
                role: EVIL.into(),
                value: EVIL.into(),
            })
            .collect(),
            record_held: false,
            reported: verdict == "valid",
        }
    }

    #[test]
    fn the_verify_page_escapes_and_speaks_every_language() {
        for lang in Lang::ALL {
            let frame = Frame {
                lang,
                back: "/verify".into(),
                operator: None,
                refresh: None,
                paused: false,
            };
            let mut answers = vec![
                answer("valid", String::new(), None),
                answer("pending", String::new(), Some(EVIL.into())),
                answer("pending", String::new(), None),
            ];
            for r in every_refusal() {
                let why = refusal_text(lang, &r);
                assert!(!why.starts_with("dash-") && !why.is_empty(), "{why}");
                answers.push(answer("invalid", why, None));
            }
            let form = page_in(&frame, "verify.html", context! {}).unwrap();
            assert_clean(&form, &format!("verify form in {lang}"));
            assert!(form.contains("name=\"qr\""));
            for a in answers {
                let page = page_in(
                    &frame,
                    "verify.html",
                    context! { answer => Value::from_serialize(&a) },
                )
                .unwrap();
                assert_clean(&page, &format!("verify {} in {lang}", a.verdict));
                assert!(page.contains("&lt;script&gt;"), "{page}");
            }
        }
        let en = refusal_text(Lang::En, &Refusal::UnknownSerial("S1".into()));
        assert!(en.contains("not in the agency's register"), "{en}");
        let sq = refusal_text(Lang::Sq, &Refusal::UnknownSerial("S1".into()));
        assert_ne!(en, sq);
    }
}
