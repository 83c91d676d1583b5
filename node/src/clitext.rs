//! The command line's words in the user's language, from the same Fluent catalogues as the
//! clerk app (`shared/i18n/*.ftl`: keys `cli-*`, and the app's own where the same words are
//! meant: validation messages, record kinds and changes, roles), so that a clerk reads the same
//! words in both.
//!
//! The language ([`choose`]): `--lang` (or `CIVREG_LANG`), else `lang` of the config
//! (`CIVREG_NODE_LANG` or the file's `lang`), else the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`:
//! the first one set, as the C library reads them; `sr_RS.UTF-8@latin` is Serbian in Latin,
//! `sr_RS.UTF-8` in Cyrillic), else Albanian, the default, also for `C`, `POSIX` and a
//! language without a catalogue.
//!
//! Only the text output is translated. `--json` output, its `error` strings included, stays
//! in English whatever the language, so scripts read the same everywhere. A command run inside
//! `serve` gets the client's language in its request (`control::Request::lang`).
//!
//! Errors: the command line's own are [`Said`] (a key and its arguments: English when shown as
//! an ordinary error, in the user's language at the terminal); the node's common errors
//! (`NodeError`: wrong password, unknown record, validation, a void record...) and the control
//! socket's are rendered here by variant ([`error_text`]); anything else keeps its English
//! sentence.

use crate::control::ControlError;
use crate::node::NodeError;
use crate::store::StoreError;
use civreg_shared::i18n::{Arg, Catalog, Lang};
use civreg_shared::validate::{Problem, Severity};

/// `key` in `lang`.
pub fn t(lang: Lang, key: &str) -> String {
    Catalog::get().text(lang, key)
}

/// `key` in `lang` with arguments.
pub fn f(lang: Lang, key: &str, args: &[(&str, Arg)]) -> String {
    Catalog::get().format(lang, key, args)
}

/// The language of the locale environment (`LC_ALL`, `LC_MESSAGES`, `LANG`), else Albanian.
pub fn locale_lang(env: impl Fn(&str) -> Option<String>) -> Lang {
    let values: Vec<Option<String>> = ["LC_ALL", "LC_MESSAGES", "LANG"]
        .into_iter()
        .map(env)
        .collect();
    Lang::from_env_values(values.iter().map(|v| v.as_deref()))
}

/// The language to speak: the one given (`--lang`, `CIVREG_LANG`, the config), else the
/// locale's, else Albanian.
pub fn choose(given: Option<Lang>, env: impl Fn(&str) -> Option<String>) -> Lang {
    given.unwrap_or_else(|| locale_lang(env))
}

/// `--lang`'s values: the tags of the catalogues, any case. Anything else is refused by clap
/// with the list of choices.
pub fn lang_parser() -> impl clap::builder::TypedValueParser<Value = Lang> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(Lang::ALL.map(Lang::tag))
        .map(|s: String| Lang::from_tag(&s).unwrap_or_default())
}

#[derive(Debug, Clone)]
enum Value {
    Str(String),
    Num(f64),
}

/// An error of the command line, said through the catalogues: in English as an ordinary error
/// (`Display`, the JSON output, logs), in the user's language at the terminal.
#[derive(Debug, Clone)]
pub struct Said {
    key: &'static str,
    args: Vec<(&'static str, Value)>,
}

impl Said {
    pub fn new(key: &'static str) -> Said {
        Said {
            key,
            args: Vec::new(),
        }
    }

    /// A text argument.
    pub fn with(mut self, name: &'static str, value: impl std::fmt::Display) -> Said {
        self.args.push((name, Value::Str(value.to_string())));
        self
    }

    /// A number argument (for plurals).
    pub fn num(mut self, name: &'static str, n: u64) -> Said {
        self.args.push((name, Value::Num(n as f64)));
        self
    }

    pub fn key(&self) -> &'static str {
        self.key
    }

    pub fn text(&self, lang: Lang) -> String {
        let args: Vec<(&str, Arg)> = self
            .args
            .iter()
            .map(|(k, v)| {
                (
                    *k,
                    match v {
                        Value::Str(s) => Arg::from(s.as_str()),
                        Value::Num(n) => Arg::Num(*n),
                    },
                )
            })
            .collect();
        f(lang, self.key, &args)
    }
}

impl std::fmt::Display for Said {
    fn fmt(&self, fm: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fm.write_str(&self.text(Lang::En))
    }
}

impl std::error::Error for Said {}

/// An error as the text output says it in `lang`: each link of its chain (joined with `: `, as
/// `{:#}` joins them) in `lang` where the catalogues know it, else as it was written.
pub fn error_text(lang: Lang, e: &anyhow::Error) -> String {
    e.chain()
        .map(|c| cause_text(lang, c))
        .collect::<Vec<_>>()
        .join(": ")
}

fn cause_text(lang: Lang, c: &(dyn std::error::Error + 'static)) -> String {
    if let Some(s) = c.downcast_ref::<Said>() {
        return s.text(lang);
    }
    if let Some(n) = c.downcast_ref::<NodeError>() {
        if let Some(s) = node_error_text(lang, n) {
            return s;
        }
    }
    if let Some(StoreError::Locked { path }) = c.downcast_ref::<StoreError>() {
        return f(lang, "cli-err-locked", &[("path", path.into())]);
    }
    if let Some(x) = c.downcast_ref::<ControlError>() {
        if let Some(s) = control_error_text(lang, x) {
            return s;
        }
    }
    if let Some(civreg_shared::ids::IdError::RegNo(s)) =
        c.downcast_ref::<civreg_shared::ids::IdError>()
    {
        return f(
            lang,
            "cli-err-bad-regno",
            &[("value", format!("{s:?}").into())],
        );
    }
    c.to_string()
}

/// The sentence for a node error the clerk meets, in `lang`; `None` for the others (said in
/// English).
pub fn node_error_text(lang: Lang, e: &NodeError) -> Option<String> {
    use NodeError as E;
    Some(match e {
        E::WrongKey => t(lang, "cli-err-wrong-key"),
        E::RotationUnfinished => t(lang, "cli-err-rotation-unfinished"),
        E::NotInitialised(dir) => f(
            lang,
            "cli-err-not-initialised",
            &[("dir", dir.display().to_string().into())],
        ),
        E::Invalid(report) => not_saved(lang, &report.problems),
        E::WrongMunicipality { own, given } => f(
            lang,
            "cli-err-wrong-municipality",
            &[("own", own.into()), ("given", given.into())],
        ),
        E::NotFound(regno) => f(lang, "cli-err-not-found", &[("regno", regno.into())]),
        E::Unvoid(u) => unvoid_refused_text(lang, u),
        E::Voided(regno) => f(lang, "cli-err-voided", &[("regno", regno.into())]),
        E::NoChange(regno) => f(lang, "cli-err-no-change", &[("regno", regno.into())]),
        E::MunicipalityChange => t(lang, "v-field-municipality"),
        E::ReasonRequired => t(lang, "cli-err-void-reason"),
        E::AmendReasonRequired => t(lang, "cli-err-amend-reason"),
        E::BadCredentials => t(lang, "cli-err-bad-credentials"),
        E::ClerkExists(name) => f(
            lang,
            "cli-err-clerk-exists",
            &[("name", format!("{name:?}").into())],
        ),
        E::BadClerkName(name) => f(
            lang,
            "cli-err-clerk-name",
            &[("name", format!("{name:?}").into())],
        ),
        E::WeakPassword => t(lang, "cli-err-weak-password"),
        E::NoSuchClerk(name) => f(
            lang,
            "cli-err-no-such-clerk",
            &[("name", format!("{name:?}").into())],
        ),
        E::LastClerk(name) => f(
            lang,
            "cli-err-last-clerk",
            &[("name", format!("{name:?}").into())],
        ),
        E::TooManyClerks => f(
            lang,
            "cli-err-too-many-clerks",
            &[("max", civreg_shared::limits::MAX_CLERKS.into())],
        ),
        E::Halted(why) => f(lang, "cli-err-halted", &[("reason", why.into())]),
        E::ClockAhead { minutes } => f(
            lang,
            "cli-err-clock-ahead",
            &[("minutes", (*minutes).into())],
        ),
        E::Store(StoreError::Locked { path }) => {
            f(lang, "cli-err-locked", &[("path", path.into())])
        }
        E::Id(civreg_shared::ids::IdError::RegNo(s)) => f(
            lang,
            "cli-err-bad-regno",
            &[("value", format!("{s:?}").into())],
        ),
        _ => return None,
    })
}

fn control_error_text(lang: Lang, e: &ControlError) -> Option<String> {
    Some(match e {
        ControlError::Lost => t(lang, "cli-err-lost"),
        ControlError::NoAccess { path } => f(
            lang,
            "cli-err-no-access",
            &[("path", path.display().to_string().into())],
        ),
        ControlError::RequestTooLarge => f(
            lang,
            "cli-err-request-too-large",
            &[("max", civreg_shared::control::MAX_HEADER.into())],
        ),
        _ => return None,
    })
}

/// Why a certificate is not valid, in `lang` (`civreg_cert::Refusal`'s sentences).
pub fn refusal_text(lang: Lang, r: &civreg_cert::Refusal) -> String {
    use civreg_cert::Refusal as R;
    let key = format!("cli-refusal-{}", r.code());
    let args: Vec<(&str, Arg)> = match r {
        R::Undecodable(detail) => vec![("detail", detail.into())],
        R::UnknownSigner { kid } => vec![("kid", kid.into())],
        R::BadSignature => vec![],
        R::SignerExpired {
            signer,
            not_before,
            not_after,
            issued,
        } => vec![
            ("signer", signer.into()),
            ("from", not_before.into()),
            ("to", not_after.into()),
            ("issued", issued.into()),
        ],
        R::SignerRevoked { signer, revoked_at } => {
            vec![("signer", signer.into()), ("when", revoked_at.into())]
        }
        R::ForeignSerial {
            signer,
            office,
            serial,
        } => vec![
            ("signer", signer.into()),
            ("office", office.into()),
            ("serial", serial.into()),
        ],
        R::UnknownSerial(serial) => vec![("serial", serial.into())],
        R::Cancelled { at, reason } => vec![("when", at.into()), ("reason", reason.into())],
        R::RecordVoided { regno } => vec![("regno", regno.into())],
        R::RecordAmended { regno, issued, now } => vec![
            ("regno", regno.into()),
            ("issued", (*issued).into()),
            ("now", (*now).into()),
        ],
    };
    if Catalog::get().has(lang, &key) {
        f(lang, &key, &args)
    } else {
        r.to_string()
    }
}

/// The sentence the clerk app shows for a validation code.
pub fn problem_text(lang: Lang, code: &str) -> String {
    Catalog::get().validation(lang, code)
}

/// One problem on one line: `error: child.date_of_birth: The date lies in the future.`
pub fn problem_line(lang: Lang, p: &Problem) -> String {
    let key = match p.severity {
        Severity::Error => "cli-problem-error",
        Severity::Warning => "cli-problem-warning",
    };
    f(
        lang,
        key,
        &[
            ("field", p.field.as_str().into()),
            ("message", problem_text(lang, p.code).into()),
        ],
    )
}

/// A refused record: the heading and one line per problem.
pub fn not_saved(lang: Lang, problems: &[Problem]) -> String {
    let mut s = t(lang, "cli-not-saved");
    for p in problems {
        s.push('\n');
        s.push_str(&problem_line(lang, p));
    }
    s
}

/// A record on one line, as `Record::summary` says it in English: "Arben Gashi, born 1968-03-14
/// in Prizren".
pub fn record_summary(lang: Lang, rec: &civreg_shared::model::Record) -> String {
    use civreg_shared::model::Record;
    let people = rec.people();
    let name = people
        .first()
        .map(|p| format!("{} {}", p.given_name, p.surname))
        .unwrap_or_default();
    let date = rec
        .event_date()
        .map(|d| d.to_string())
        .unwrap_or_else(|| "?".into());
    let mut args: Vec<(&str, Arg)> = vec![
        ("name", name.into()),
        ("date", date.into()),
        ("place", rec.event_place().into()),
    ];
    let key = match rec {
        Record::Birth(_) => "cli-summary-birth",
        Record::Marriage(m) => {
            args.push((
                "spouse",
                format!("{} {}", m.spouse2.given_name, m.spouse2.surname_after).into(),
            ));
            "cli-summary-marriage"
        }
        Record::Death(_) => "cli-summary-death",
    };
    f(lang, key, &args)
}

/// A record kind's name as the app shows it (`Birth`).
pub fn kind_name(lang: Lang, kind: &str) -> String {
    let key = format!("kind-{kind}");
    if Catalog::get().has(lang, &key) {
        t(lang, &key)
    } else {
        kind.to_string()
    }
}

/// A person's role in a record (`child`, `mother`, `spouse1`...) as the form's section names it.
pub fn role_name(lang: Lang, role: &str) -> String {
    let key = format!("section-{role}");
    if Catalog::get().has(lang, &key) {
        t(lang, &key)
    } else {
        role.to_string()
    }
}

/// A label padded to a column: `sync:               ` (20 characters, as the English always
/// was; longer labels get one space).
pub fn label(lang: Lang, key: &str) -> String {
    let l = format!("{}:", t(lang, key));
    format!("{l:<20}")
        .chars()
        .chain((l.chars().count() >= 20).then_some(' '))
        .collect()
}

/// Why an un-void request was not made, in `lang`.
pub fn unvoid_refused_text(lang: Lang, u: &crate::node::UnvoidRefused) -> String {
    use crate::node::UnvoidRefused as U;
    match u {
        U::NotVoid(regno) => f(lang, "cli-err-unvoid-not-void", &[("regno", regno.into())]),
        U::OtherMunicipality { regno, own, given } => f(
            lang,
            "cli-err-unvoid-other",
            &[
                ("regno", regno.into()),
                ("own", own.into()),
                ("given", given.into()),
            ],
        ),
        U::Pending(regno) => f(lang, "cli-err-unvoid-pending", &[("regno", regno.into())]),
        U::TooMany(n) => f(lang, "cli-err-unvoid-full", &[("count", (*n).into())]),
        U::Reason => f(
            lang,
            "cli-err-unvoid-reason",
            &[("max", civreg_shared::limits::MAX_UNVOID_REASON_CHARS.into())],
        ),
    }
}

/// An un-void request and the hub's answer, in `lang` (`civreg-node status`, the record page).
pub fn unvoid_text(lang: Lang, r: &crate::node::UnvoidRequest) -> String {
    let key = match r.state.as_str() {
        "granted" => "cli-unvoid-granted",
        "refused" => "cli-unvoid-refused",
        "invalid" => "cli-unvoid-invalid",
        _ => "cli-unvoid-pending",
    };
    f(
        lang,
        key,
        &[
            ("regno", r.regno.as_str().into()),
            ("clerk", r.clerk.as_str().into()),
            ("operator", r.operator.as_str().into()),
            ("reason", r.answer_reason.as_str().into()),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_language_comes_from_the_flag_then_the_locale_then_albanian() {
        assert_eq!(choose(Some(Lang::En), env(&[("LANG", "sq_AL")])), Lang::En);
        for (vars, want) in [
            (&[("LANG", "sr_RS.UTF-8@latin")][..], Lang::SrLatn),
            (&[("LANG", "sr_RS.UTF-8")][..], Lang::SrCyrl),
            (&[("LANG", "sq_XK")][..], Lang::Sq),
            (&[("LANG", "en_GB.UTF-8")][..], Lang::En),
            (&[("LANG", "C")][..], Lang::Sq),
            (&[("LANG", "POSIX")][..], Lang::Sq),
            (&[][..], Lang::Sq),
            (&[("LANG", "de_DE.UTF-8")][..], Lang::Sq),
            (&[("LC_MESSAGES", "en_US"), ("LANG", "sr_RS")][..], Lang::En),
            (
                &[("LC_ALL", "sr_RS@latin"), ("LC_MESSAGES", "en_US")][..],
                Lang::SrLatn,
            ),
            (&[("LC_ALL", ""), ("LANG", "sr_RS")][..], Lang::SrCyrl),
        ] {
            assert_eq!(choose(None, env(vars)), want, "{vars:?}");
        }
    }

    #[test]
    fn said_errors_are_english_as_errors_and_translated_at_the_terminal() {
        let s = Said::new("cli-err-nothing-to-search");
        assert_eq!(
            s.to_string(),
            "nothing to search for: give a name, a date, a place or a personal number"
        );
        let e = anyhow::Error::new(s.clone());
        let sq = error_text(Lang::Sq, &e);
        assert_ne!(sq, s.to_string());
        assert_eq!(sq, s.text(Lang::Sq));
        // A context the catalogues do not know stays as written, the cause translated.
        let e = anyhow::Error::new(s).context("while searching");
        assert_eq!(
            error_text(Lang::SrCyrl, &e),
            format!(
                "while searching: {}",
                Said::new("cli-err-nothing-to-search").text(Lang::SrCyrl)
            )
        );
    }

    #[test]
    fn node_errors_the_clerk_meets_are_translated_and_validation_reads_as_in_the_app() {
        let e = anyhow::Error::new(NodeError::BadCredentials);
        assert_eq!(error_text(Lang::En, &e), "unknown clerk or wrong password");
        assert_ne!(error_text(Lang::SrCyrl, &e), error_text(Lang::En, &e));
        let report = civreg_shared::validate::Report {
            problems: vec![Problem {
                field: "child.personal_numbers.jmbg".into(),
                severity: Severity::Error,
                code: "jmbg.checksum",
                message: "English".into(),
            }],
        };
        let text = error_text(
            Lang::SrCyrl,
            &anyhow::Error::new(NodeError::Invalid(report)),
        );
        assert!(text.contains("child.personal_numbers.jmbg"), "{text}");
        assert!(
            text.contains(&Catalog::get().validation(Lang::SrCyrl, "jmbg.checksum")),
            "{text}"
        );
        // An unfinished key rotation: in the clerk's language, with the command to run.
        let e = anyhow::Error::new(NodeError::RotationUnfinished);
        for lang in [Lang::Sq, Lang::SrLatn, Lang::SrCyrl, Lang::En] {
            let text = error_text(lang, &e);
            assert!(text.contains("civreg-node rotate-key --resume"), "{text}");
        }
        assert_ne!(error_text(Lang::Sq, &e), error_text(Lang::En, &e));
        // Anything else keeps its English sentence.
        let e = anyhow::Error::new(NodeError::Format("9".into()));
        assert_eq!(error_text(Lang::Sq, &e), e.to_string());
    }

    #[test]
    fn labels_line_up() {
        assert_eq!(label(Lang::En, "cli-status-sync"), "sync:               ");
        assert!(label(Lang::Sq, "cli-status-hub-acked").ends_with(' '));
    }
}
