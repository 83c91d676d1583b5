//! The public verification page (issue 15): `GET /verify` (a form), `POST /verify` (the
//! answer). No sign-in. It passes the dashboard's guard like every route (host check, body
//! limit, strict CSP without scripts, no caching) and escapes everything it prints.
//!
//! It answers valid or not, and why not; the signed fields; whether the signer is revoked, the
//! record voided or amended since, the certificate cancelled ([`crate::certificates::check`]).
//! Every verification is appended to the access log as `public verification` with the serial
//! and the record: nothing about who asked (no address, no browser).

use super::html::esc;
use super::{blocking, Context, WebError};
use crate::certificates;
use axum::extract::{Form, State};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use std::fmt::Write as _;

#[derive(Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    qr: String,
}

const FORM: &str = "<form method=\"post\" action=\"/verify\">\
<p><label for=\"qr\">Teksti i kodit QR / Tekst QR koda / The QR code's text</label></p>\
<p><textarea id=\"qr\" name=\"qr\" rows=\"6\" required maxlength=\"4400\" placeholder=\"CR1:...\"></textarea></p>\
<p><button id=\"check\">Verifiko / Proveri / Verify</button></p></form>";

fn frame(body: &str) -> String {
    super::html::page(
        "Verifikimi i certifikatës / Provera izvoda / Certificate verification",
        None,
        None,
        body,
    )
}

pub async fn form() -> Response {
    let body = format!(
        "<h1>Verifikimi i certifikatës / Provera izvoda / Certificate verification</h1>\
         <p>Skanoni kodin QR të certifikatës dhe ngjitni tekstin e tij këtu. / Skenirajte QR kod izvoda i nalepite njegov tekst ovde. / Scan the certificate's QR code and paste its text here.</p>{FORM}"
    );
    Html(frame(&body)).into_response()
}

pub async fn check(State(ctx): State<Context>, Form(f): Form<VerifyForm>) -> Response {
    let c = ctx.clone();
    blocking(move || page(&c, &f.qr))
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

fn page(ctx: &Context, text: &str) -> Result<Response, WebError> {
    let trust = ctx
        .trust()
        .get(ctx.pki())
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let answer = certificates::check(text, &trust, ctx.data_dir(), ctx.store())
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

    let mut b = String::new();
    b.push_str("<h1>Verifikimi i certifikatës / Provera izvoda / Certificate verification</h1>");
    match (&answer.result, &answer.pending) {
        (Ok(v), Some(p)) => {
            let _ = write!(
                b,
                "<p class=\"msg warn\" id=\"verdict\" data-valid=\"pending\"><b>E PAKONFIRMUAR / NEPOTVRĐENO / NOT YET CONFIRMED</b>: \
                 nënshkrimi i {signer} është i vërtetë, por zyra nuk e ka raportuar ende këtë certifikatë; lëshuar jashtë linje më {date}. / \
                 potpis {signer} je ispravan, ali kancelarija još nije prijavila ovaj izvod; izdat van mreže {date}. / \
                 the signature of {signer} is genuine, but the office has not reported this certificate yet: issued offline on {date}. \
                 {last}</p>",
                signer = esc(&v.signer.identity),
                date = esc(&p.issued_on),
                last = match &p.last_reported {
                    Some(l) => format!(
                        "Certifikata e fundit e raportuar / Poslednji prijavljeni izvod / The last certificate reported by {}: {}. ",
                        esc(&p.office),
                        esc(l)
                    ),
                    None => format!(
                        "{} nuk ka raportuar asnjë certifikatë ende / još nije prijavila nijedan izvod / has reported no certificate yet. ",
                        esc(&p.office)
                    ),
                }
            );
        }
        (Ok(v), None) => {
            let _ = write!(
                b,
                "<p class=\"msg ok\" id=\"verdict\" data-valid=\"true\"><b>E VLEFSHME / VAŽEĆE / VALID</b>: nënshkruar nga / potpisao / signed by {}</p>",
                esc(&v.signer.identity)
            );
        }
        (Err(r), _) => {
            let _ = write!(
                b,
                "<p class=\"msg bad\" id=\"verdict\" data-valid=\"false\" data-refusal=\"{}\"><b>JO E VLEFSHME / NEVAŽEĆE / NOT VALID</b>: {}</p>",
                esc(r.code()),
                esc(&r.to_string())
            );
        }
    }
    if let Some(c) = &answer.claims {
        b.push_str("<h2>Të dhënat e nënshkruara / Potpisani podaci / Signed fields</h2><table id=\"claims\">");
        let mut row = |k: &str, v: &str| {
            let _ = write!(b, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
        };
        row("serial", &c.serial);
        row("record", &c.regno);
        row("kind", &c.kind.to_string());
        row("issued", &c.issued_on);
        row("office", &c.office);
        row("record version", &c.record_version.to_string());
        row("event date", c.event_date.as_deref().unwrap_or("—"));
        row("event place", &c.event_place);
        for p in &c.people {
            let mut v = format!(
                "{} {}",
                civreg_cert::pdf::printed_name(&p.given_name),
                civreg_cert::pdf::printed_name(&p.surname)
            );
            if let Some(o) = &p.other_surname {
                let _ = write!(v, " ({})", civreg_cert::pdf::printed_name(o));
            }
            if let Some(d) = &p.date_of_birth {
                let _ = write!(v, ", {d}");
            }
            if let Some(id) = &p.person_id {
                let _ = write!(v, ", {id}");
            }
            row(&p.role, &v);
        }
        b.push_str("</table>");
        if !answer.record_held && answer.result.is_ok() {
            b.push_str("<p class=\"small\" id=\"not-held\">The agency has not received this record from its office yet: its current state can not be compared.</p>");
        }
        if answer.result.is_ok() {
            if answer.reported {
                b.push_str("<p class=\"small\" id=\"reported\" data-reported=\"true\">Zyra lëshuese e ka raportuar këtë certifikatë në agjenci. / Kancelarija je prijavila ovaj izvod agenciji. / The issuing office has reported this certificate to the agency.</p>");
            } else {
                b.push_str("<p class=\"small\" id=\"not-reported\" data-reported=\"false\">Pyesni zyrën lëshuese nëse keni dyshime. / Ako sumnjate, pitajte kancelariju koja je izdala izvod. / If in doubt, ask the issuing office: it reports what it issued when its line to the agency works again.</p>");
            }
        }
    }
    b.push_str(FORM);
    Ok(Html(frame(&b)).into_response())
}
