//! Identity matching on a seeded synthetic register with planted duplicates, and the cases a
//! registrar would check by hand.

use civreg_shared::linkage::{
    dedupe, first_rules, link, Class, Field, Matcher, Model, PartialDate, PersonRecord, PnumToken,
    RegisterIndex, TrainConfig, RULES,
};
use civreg_shared::model::Sex;
use civreg_shared::synth::eval::LinkageSet;
use civreg_shared::synth::population::{Population, PopulationConfig, SynthRecord};
use std::sync::OnceLock;

const SEED: u64 = 0x5EED_11AC;
const RECORDS: u64 = 30_000;

struct Trained {
    set: LinkageSet,
    model: Model,
}

/// One synthetic register and one model for every test (training is the slow part).
fn trained() -> &'static Trained {
    static T: OnceLock<Trained> = OnceLock::new();
    T.get_or_init(|| {
        let set = LinkageSet::from_records(Population::new(PopulationConfig::new(SEED, RECORDS)))
            .expect("generated records parse");
        let cfg = TrainConfig {
            random_pairs: 300_000,
            ..TrainConfig::default()
        };
        let model = Matcher::train(&set.people, &cfg).expect("training");
        Trained { set, model }
    })
}

#[test]
fn finds_planted_duplicates_with_high_precision_and_recall() {
    let t = trained();
    assert!(
        t.set.planted.len() > 1_500,
        "{} planted",
        t.set.planted.len()
    );
    let d = dedupe(&t.model, &t.set.people, t.model.thresholds.matched);
    let q = t.set.evaluate(&d.pairs, t.model.thresholds.matched);
    eprintln!(
        "threshold {:.2}: {} predicted, precision {:.4}, recall planted {:.4} ({} of {}), recall all {:.4}; {} pairs compared of {}",
        q.threshold,
        q.predicted,
        q.precision,
        q.recall_planted,
        q.planted_found,
        q.planted,
        q.recall_all,
        d.stats.pairs,
        d.stats.all_pairs
    );
    assert!(q.precision >= 0.95, "precision {:.4}", q.precision);
    assert!(q.recall_planted >= 0.90, "recall {:.4}", q.recall_planted);
    // Blocking compares a tiny share of all pairs.
    assert!(d.stats.pairs * 200 < d.stats.all_pairs, "{:?}", d.stats);
}

fn person(id: &str, given: &str, surname: &str, dob: (i32, u32, u32)) -> PersonRecord {
    PersonRecord {
        id: id.into(),
        given_name: given.into(),
        surname: surname.into(),
        sex: Some(Sex::Male),
        birth_date: Some(PartialDate::ymd(dob.0, dob.1, dob.2)),
        ..PersonRecord::default()
    }
}

#[test]
fn cyrillic_and_latin_spellings_match() {
    let m = &trained().model;
    let mut a = person("a", "Dragan", "Đorđević", (1961, 4, 23));
    a.father_given_name = Some("Milan".into());
    a.birth_place = Some("prishtine".into());
    let mut b = person("b", "Драган", "Ђорђевић", (1961, 4, 23));
    b.father_given_name = Some("Милан".into());
    b.birth_place = Some("Приштина".into());
    let s = m.score(&a, &b);
    assert_eq!(m.class(s.weight), Class::Match, "{s:#?}");
    let mut c = person("c", "Dragan", "Djordjevic", (1961, 4, 23));
    c.father_given_name = Some("Milan".into());
    assert_eq!(m.class(m.score(&a, &c).weight), Class::Match);
    let surname = s
        .fields
        .iter()
        .find(|f| f.field == Field::Surname)
        .expect("surname");
    assert_eq!(surname.level, Some("normalised"));
}

#[test]
fn swapped_day_and_month_still_match() {
    let m = &trained().model;
    let mut a = person("a", "Arben", "Hoxha", (1972, 5, 9));
    a.father_given_name = Some("Ilir".into());
    a.mother_given_name = Some("Shpresa".into());
    let mut b = person("b", "Arben", "Hoxha", (1972, 9, 5));
    b.father_given_name = Some("Ilir".into());
    b.mother_given_name = Some("Shpresa".into());
    let s = m.score(&a, &b);
    let date = s
        .fields
        .iter()
        .find(|f| f.field == Field::BirthDate)
        .expect("date");
    assert_eq!(date.level, Some("day/month swapped"));
    assert_eq!(m.class(s.weight), Class::Match, "{s:#?}");
}

#[test]
fn two_krasniqis_of_the_same_year_are_not_a_match() {
    let m = &trained().model;
    let mut a = person("a", "Arben", "Krasniqi", (1980, 3, 14));
    a.father_given_name = Some("Adem".into());
    let mut b = person("b", "Besnik", "Krasniqi", (1980, 11, 2));
    b.father_given_name = Some("Hasan".into());
    let s = m.score(&a, &b);
    assert_eq!(m.class(s.weight), Class::New, "{s:#?}");
    assert!(s.weight < 0.0, "{}", s.weight);
}

#[test]
fn a_rare_surname_weighs_more_than_krasniqi() {
    let m = &trained().model;
    let common = m.score(
        &person("a", "Arben", "Krasniqi", (1980, 3, 14)),
        &person("b", "Arben", "Krasniqi", (1980, 3, 14)),
    );
    let rare = m.score(
        &person("a", "Arben", "Zullufi", (1980, 3, 14)),
        &person("b", "Arben", "Zullufi", (1980, 3, 14)),
    );
    let sw = |s: &civreg_shared::linkage::Score| {
        s.fields
            .iter()
            .find(|f| f.field == Field::Surname)
            .expect("surname")
            .weight
    };
    assert!(
        sw(&rare) > sw(&common) + 2.0,
        "Zullufi {} vs Krasniqi {}",
        sw(&rare),
        sw(&common)
    );
    assert!(rare.weight > common.weight);
}

#[test]
fn personal_number_tokens_decide_only_within_a_scheme() {
    let m = &trained().model;
    let tok = |scheme: &str, t: &str| PnumToken::new(scheme, t.into());
    let mut a = person("a", "Arben", "Gashi", (1970, 1, 1));
    let mut b = person("b", "Arben", "Gashi", (1970, 1, 1));
    a.tokens = vec![tok("jmbg", "x")];
    b.tokens = vec![tok("jmbg", "y")];
    let differ = m.score(&a, &b).weight;
    b.tokens = vec![tok("kosovo", "y")];
    let other_scheme = m.score(&a, &b).weight;
    b.tokens = vec![tok("jmbg", "x")];
    let same = m.score(&a, &b).weight;
    assert!(
        differ < other_scheme && other_scheme < same,
        "{differ} {other_scheme} {same}"
    );
}

#[test]
fn linking_rows_finds_their_register_record() {
    let t = trained();
    // The register: everything but the duplicates; the rows: the duplicates.
    let dup: std::collections::HashSet<usize> = t.set.planted.iter().map(|p| p.0).collect();
    let kept: Vec<usize> = (0..t.set.people.len())
        .filter(|i| !dup.contains(i))
        .collect();
    let register: Vec<PersonRecord> = kept.iter().map(|&i| t.set.people[i].clone()).collect();
    let index = RegisterIndex::build(&t.model, &register);
    assert_eq!(index.len(), register.len());
    let mut right = 0;
    let mut wrong = 0;
    let mut n = 0;
    for (d, _, _) in t.set.planted.iter().take(500) {
        n += 1;
        let l = link(&t.model, &index, &t.set.people[*d]);
        let Some(best) = l.best.filter(|_| l.class == Class::Match) else {
            continue;
        };
        // The original, or another record of the same person (a birth and a later marriage).
        if t.set.entity[kept[best.index]] == t.set.entity[*d] {
            right += 1;
        } else {
            wrong += 1;
        }
    }
    eprintln!("{right} right, {wrong} wrong of {n}");
    assert!(wrong * 100 <= n, "{wrong} of {n} linked to someone else");
    assert!(
        right * 100 >= n * 88,
        "{right} of {n} linked to their original"
    );
    // A person who is in no record is New.
    let stranger = person("x", "Zijadin", "Përvetica", (1947, 12, 30));
    let l = link(&t.model, &index, &stranger);
    assert_ne!(l.class, Class::Match, "{l:#?}");
}

#[test]
fn the_model_survives_json() {
    let m = &trained().model;
    let back = Model::from_json(&m.to_json()).expect("round trip");
    let a = person("a", "Drita", "Berisha", (1990, 2, 3));
    let b = person("b", "Drita", "Berisa", (1990, 2, 3));
    let (x, y) = (m.score(&a, &b), back.score(&a, &b));
    assert!(
        (x.weight - y.weight).abs() < 1e-9,
        "{} vs {}",
        x.weight,
        y.weight
    );
    assert_eq!(
        x.fields.iter().map(|f| f.level).collect::<Vec<_>>(),
        y.fields.iter().map(|f| f.level).collect::<Vec<_>>()
    );
    let mut bad = back.clone();
    bad.fields.pop();
    assert!(Model::from_json(&bad.to_json()).is_err());
}

#[test]
fn training_refuses_too_little_data_and_bad_probabilities() {
    assert!(Matcher::train(&[], &TrainConfig::default()).is_err());
    let two = [
        person("a", "A", "B", (1990, 1, 1)),
        person("b", "C", "D", (1991, 1, 1)),
    ];
    let cfg = TrainConfig {
        match_probability: 1.5,
        ..TrainConfig::default()
    };
    assert!(Matcher::train(&two, &cfg).is_err());
}

#[test]
fn the_generator_is_deterministic_and_its_records_are_valid() {
    let cfg = PopulationConfig::new(99, 3_000);
    let a: Vec<SynthRecord> = Population::new(cfg.clone()).collect();
    let b: Vec<SynthRecord> = Population::new(cfg).collect();
    assert_eq!(a.len(), 3_000);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.doc, y.doc);
        assert_eq!(x.truth, y.truth);
    }
    let other: Vec<SynthRecord> = Population::new(PopulationConfig::new(100, 50)).collect();
    assert_ne!(a[0].doc, other[0].doc, "another seed, other data");
    let today = chrono::Local::now().date_naive();
    let mut munis = std::collections::HashSet::new();
    let mut scripts = (0, 0);
    for r in &a {
        let rec = r.record().expect("parses");
        let report = civreg_shared::validate::validate(&rec, today);
        assert!(!report.has_errors(), "{}: {report}", r.id);
        munis.insert(rec.municipality().to_string());
        let cyr = r
            .doc
            .to_string()
            .chars()
            .any(|c| ('\u{400}'..='\u{4ff}').contains(&c));
        if cyr {
            scripts.0 += 1
        } else {
            scripts.1 += 1
        }
    }
    assert_eq!(munis.len(), 38, "every municipality has records");
    assert!(scripts.0 > 100 && scripts.1 > 2_000, "{scripts:?}");
    // Families: some entity appears in more than one original record.
    let mut seen = std::collections::HashMap::new();
    for r in a.iter().filter(|r| r.truth.duplicate_of.is_none()) {
        for e in r.truth.entities.values() {
            *seen.entry(*e).or_insert(0) += 1;
        }
    }
    assert!(seen.values().filter(|&&k| k > 1).count() > 300);
}

#[test]
fn csv_and_truth_writers_round_trip_through_the_importer_shape() {
    use civreg_shared::synth::write::{CsvWriter, TruthWriter};
    let recs: Vec<SynthRecord> = Population::new(PopulationConfig::new(5, 200)).collect();
    let mut csv = CsvWriter::new(Vec::new()).expect("header");
    let mut truth = TruthWriter::new(Vec::new());
    for r in &recs {
        csv.write_synth(r).expect("row");
        truth.write(&r.truth).expect("truth");
    }
    let csv = String::from_utf8(csv.finish().expect("flush")).expect("utf-8");
    let truth = String::from_utf8(truth.finish().expect("flush")).expect("utf-8");
    assert!(csv.starts_with("kind,municipality,register.book,"));
    assert_eq!(truth.lines().count(), 200);
    let first: serde_json::Value =
        serde_json::from_str(truth.lines().next().expect("line")).expect("json");
    assert_eq!(first["id"], recs[0].id.as_str());
    assert!(
        truth.contains("\"duplicate_of\""),
        "200 records hold a duplicate"
    );
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn stored_models_are_parsed_without_panicking(s in any::<String>()) {
            let _ = Model::from_json(&s);
        }

        #[test]
        fn any_names_and_dates_score_finitely(
            g1 in any::<String>(), s1 in any::<String>(), g2 in any::<String>(), s2 in any::<String>(),
            y in -3000i32..3000, m in 0u32..20, d in 0u32..40, place in any::<String>(),
        ) {
            let m_ = &trained().model;
            let a = PersonRecord {
                id: "a".into(),
                given_name: g1,
                surname: s1,
                birth_surname: Some(s2.clone()),
                birth_date: Some(PartialDate { year: y, month: Some(m), day: Some(d) }),
                birth_place: Some(place),
                ..PersonRecord::default()
            };
            let b = PersonRecord {
                id: "b".into(),
                given_name: g2,
                surname: s2,
                birth_date: Some(PartialDate::year(y)),
                ..PersonRecord::default()
            };
            let s = m_.score(&a, &b);
            prop_assert!(s.weight.is_finite());
            prop_assert!((0.0..=1.0).contains(&s.probability));
        }
    }
}

/// Issue 16: given name and surname entered in each other's fields, with the same date and
/// number, weigh like a match; before, "alex kranz" against "kranz alex" weighed 17 bits.
#[test]
fn swapped_given_name_and_surname_still_match() {
    let m = &trained().model;
    let token = civreg_shared::synth::eval::test_token;
    let mut a = person("a", "Alex", "Kranz", (1971, 4, 9));
    let mut b = person("b", "Kranz", "Alex", (1971, 4, 9));
    a.tokens = vec![PnumToken::blind("jmbg", "0904971910012", token)];
    b.tokens = a.tokens.clone();
    let s = m.score(&a, &b);
    let level = |f: Field| s.fields.iter().find(|x| x.field == f).and_then(|x| x.level);
    assert_eq!(
        level(Field::GivenName),
        Some("swapped with surname"),
        "{s:?}"
    );
    assert_eq!(
        level(Field::Surname),
        Some("swapped with given name"),
        "{s:?}"
    );
    assert!(
        s.weight >= m.thresholds.matched,
        "swapped names weigh {:.1}, under Match {:.1}",
        s.weight,
        m.thresholds.matched
    );
    // Swapped and then misspelt (a copy with two corruptions): still the swapped levels.
    let mut c = person("c", "Kranc", "Alex", (1971, 4, 9));
    c.tokens = a.tokens.clone();
    let s = m.score(&a, &c);
    let level = |f: Field| s.fields.iter().find(|x| x.field == f).and_then(|x| x.level);
    assert_eq!(
        level(Field::GivenName),
        Some("swapped with surname"),
        "{s:?}"
    );
    // Two different people are not "swapped": only one crossed name agrees.
    let d = person("d", "Kranz", "Drita", (1971, 4, 9));
    let s = m.score(&a, &d);
    assert!(
        s.fields
            .iter()
            .all(|x| x.level != Some("swapped with surname")),
        "{s:?}"
    );
}

/// Issue 16: a short name with one typing error ("Dc" for "Duc", "Lz" for "Li") is a third or
/// half of the name to Jaro-Winkler, under 0.88, and was "different"; in the generic dedupe a
/// third of the true pairs under Match had such a name, in place or swapped. It is its own level
/// now, and a swapped pair with such a typo in one name is still swapped.
#[test]
fn a_short_name_one_typo_apart_is_a_typo_not_a_different_name() {
    let m = &trained().model;
    let level = |s: &civreg_shared::linkage::Score, f: Field| {
        s.fields.iter().find(|x| x.field == f).and_then(|x| x.level)
    };
    let a = person("a", "Duc", "Murphy", (1959, 6, 20));
    let s = m.score(&a, &person("b", "Dc", "Murphy", (1959, 6, 20)));
    assert_eq!(level(&s, Field::GivenName), Some("one typo apart"), "{s:?}");
    let different = m.score(&a, &person("c", "Ali", "Murphy", (1959, 6, 20)));
    assert_eq!(level(&different, Field::GivenName), Some("different"));
    assert!(s.weight > different.weight, "{s:?} {different:?}");
    let a = person("a", "Chinedu", "Li", (1962, 3, 2));
    let s = m.score(&a, &person("b", "Lz", "Chinedu", (1962, 3, 2)));
    assert_eq!(
        level(&s, Field::GivenName),
        Some("swapped with surname"),
        "{s:?}"
    );
    assert_eq!(level(&s, Field::Surname), Some("swapped with given name"));
    let s = m.score(&a, &person("b", "Wu", "Chinedu", (1962, 3, 2)));
    assert_eq!(level(&s, Field::GivenName), Some("different"), "{s:?}");
}

/// A name in the other field is no more evidence than the same name in its own field: two
/// Krasniqis named Arben, written once each way, are not a stronger pair than the same two
/// written alike.
#[test]
fn a_swapped_common_name_weighs_no_more_than_the_name_in_place() {
    let m = &trained().model;
    let a = person("a", "Arben", "Krasniqi", (1980, 3, 14));
    let same = person("b", "Arben", "Krasniqi", (1981, 3, 14));
    let swapped = person("c", "Krasniqi", "Arben", (1981, 3, 14));
    let (s_same, s_swapped) = (m.score(&a, &same), m.score(&a, &swapped));
    assert_eq!(
        s_swapped.fields[0].level,
        Some("swapped with surname"),
        "{s_swapped:?}"
    );
    for f in [Field::GivenName, Field::Surname] {
        let w = |s: &civreg_shared::linkage::Score| {
            s.fields
                .iter()
                .find(|x| x.field == f)
                .map_or(f64::NAN, |x| x.weight)
        };
        assert!(
            w(&s_swapped) <= w(&s_same) + 1e-9,
            "{}: swapped {:.2} bits, in place {:.2}",
            f.as_str(),
            w(&s_swapped),
            w(&s_same)
        );
    }
    // The common surname's frequency counts when swapped too.
    let tf: f64 = s_swapped.fields.iter().map(|f| f.tf_adjustment).sum();
    assert!(tf < 0.0, "{s_swapped:?}");
}

/// Three records of one person: the original; a copy with the same personal number whose
/// father's name and place of birth were entered wrongly; and a copy of that copy without the
/// number and the date. Each copy matches the record it was made from, the two ends are weak
/// together (they share neither the number nor the father, the place or a date), and dedupe
/// reports them as one person through their cluster.
#[test]
fn dedupe_joins_a_weak_pair_through_its_cluster() {
    let m = &trained().model;
    let token = civreg_shared::synth::eval::test_token;
    let mut a = person("a", "Valmira", "Thaçi", (1983, 6, 21));
    a.sex = Some(Sex::Female);
    a.father_given_name = Some("Shkëlzen".into());
    a.mother_given_name = Some("Lumturie".into());
    a.birth_place = Some("gjakove".into());
    a.tokens = vec![PnumToken::blind("kosovo", "1234567890", token)];
    let mut b = a.clone();
    b.id = "b".into();
    b.father_given_name = Some("Sokol".into());
    b.birth_place = Some("prizren".into());
    let mut c = b.clone();
    c.id = "c".into();
    c.tokens.clear();
    c.birth_date = None;
    let records = vec![a.clone(), b.clone(), c.clone()];
    let th = m.thresholds;
    let (ab, bc, ac) = (
        m.score(&a, &b).weight,
        m.score(&b, &c).weight,
        m.score(&a, &c).weight,
    );
    assert!(
        ab >= th.matched && bc >= th.matched && ac < th.matched,
        "a-b {ab:.1}, b-c {bc:.1}, a-c {ac:.1}, Match {:.1}",
        th.matched
    );
    let d = dedupe(m, &records, th.possible);
    let pair = d
        .pairs
        .iter()
        .find(|p| (p.a, p.b) == (0, 2))
        .copied()
        .expect("a and c reported");
    assert!(pair.is_match(th.matched), "{pair:?}");
    assert!(pair.cluster.is_some_and(|p| p >= m.match_probability));
    assert_eq!(d.clusters.matched, 1, "{:?}", d.clusters);
    // Pairwise, it is not a Match.
    assert!(pair.weight < th.matched);
}

/// Brothers are not joined through a mistyped record: Milan's mistyped copy ("Mlaen", with
/// his personal number) matches Milan and, by the pair model, his brother Mladen; but Milan and
/// Mladen, of one surname, differ in the given name, and the cluster step never joins such a
/// pair.
#[test]
fn dedupe_never_joins_siblings_through_their_cluster() {
    let m = &trained().model;
    let token = civreg_shared::synth::eval::test_token;
    let family = |id: &str, given: &str, dob: (i32, u32, u32)| {
        let mut p = person(id, given, "Simić", dob);
        p.father_given_name = Some("Marko".into());
        p.mother_given_name = Some("Svetlana".into());
        p.mother_maiden_surname = Some("Janković".into());
        p.birth_place = Some("prishtine".into());
        p
    };
    let mut a = family("a", "Milan", (2015, 12, 13));
    a.tokens = vec![PnumToken::blind("kosovo", "1234567890", token)];
    let mut b = a.clone();
    b.id = "b".into();
    b.given_name = "Mlaen".into();
    let s = family("s", "Mladen", (2015, 11, 12));
    let th = m.thresholds;
    let (ab, bs, as_) = (m.score(&a, &b), m.score(&b, &s).weight, m.score(&a, &s));
    assert_eq!(as_.fields[0].level, Some("different"), "{as_:?}");
    assert!(
        ab.weight >= th.matched && bs >= th.matched && as_.weight < th.matched,
        "a-b {:.1}, b-s {bs:.1}, a-s {:.1}, Match {:.1}",
        ab.weight,
        as_.weight,
        th.matched
    );
    let d = dedupe(m, &[a, b, s], th.possible);
    let joined: Vec<_> = d.pairs.iter().filter(|p| p.cluster.is_some()).collect();
    assert!(joined.is_empty(), "{joined:?}");
}

/// Issue 16: personal numbers one typing error apart are their own level and are blocked
/// together, while two different numbers are not.
#[test]
fn personal_numbers_one_edit_apart_are_compared_and_blocked() {
    let m = &trained().model;
    let token = civreg_shared::synth::eval::test_token;
    let with = |n: &str| {
        // Different given names and surnames and dates: only the number can bring them together.
        let mut p = person("x", "Arben", "Gashi", (1970, 1, 1));
        p.tokens = vec![PnumToken::blind("kosovo", n, token)];
        p
    };
    let level = |a: &PersonRecord, b: &PersonRecord| {
        m.score(a, b)
            .fields
            .iter()
            .find(|x| x.field == Field::PersonalNumber)
            .and_then(|x| x.level)
    };
    let base = with("1234567890");
    for (other, want) in [
        ("1234567890", "same"),
        ("1234567899", "one edit apart"), // substitution
        ("1243567890", "one edit apart"), // transposition
        ("1234576890", "one edit apart"), // transposition across the middle
        ("123456789", "one edit apart"),  // deletion
        ("9876543210", "different"),
        ("1234500000", "different"),
    ] {
        assert_eq!(level(&base, &with(other)), Some(want), "{other}");
    }
    // Blocking: a register of strangers and the one record whose number has a typo.
    let mut register: Vec<PersonRecord> = (0..200)
        .map(|i| {
            let mut p = person(&format!("r{i}"), "Drita", "Berisha", (1950, 1, 1 + i % 28));
            p.tokens = vec![PnumToken::blind(
                "kosovo",
                &format!("{:010}", i * 7_919_111),
                token,
            )];
            p
        })
        .collect();
    let mut mine = person("mine", "Agim", "Rexhepi", (1988, 6, 30));
    mine.tokens = vec![PnumToken::blind("kosovo", "5550123499", token)];
    register.push(mine);
    let index = RegisterIndex::build(m, &register);
    let mut row = person("row", "Agimm", "Rexhepaj", (1989, 7, 3));
    row.tokens = vec![PnumToken::blind("kosovo", "5550132499", token)];
    let l = link(m, &index, &row);
    assert_eq!(
        l.best.as_ref().map(|b| b.id.as_str()),
        Some("mine"),
        "{l:?}"
    );
    assert!(l.compared < 20, "{} compared", l.compared);
}

/// Issue 16 at 3.1 million records: a pair equal on names and date whose personal numbers are
/// one edit apart is a Match. The two numbers share their first half, and so does a crowd of
/// other people's numbers (a JMBG's first half is the date of birth), a block over the cap of
/// the rule of numbers one edit apart: the pair must still be compared under the rules of names
/// and date. Once it was compared by no rule (a pair sharing a key under an earlier rule was
/// taken as compared there, in a block over the cap or not), and `wrong_digit` duplicates
/// found at Match fell from 90% to 27%.
#[test]
fn a_pair_with_numbers_one_edit_apart_in_a_crowded_half_reaches_match() {
    let m = &trained().model;
    let token = civreg_shared::synth::eval::test_token;
    let mut a = person("a", "Besnik", "Hoxha", (1979, 4, 12));
    a.father_given_name = Some("Agim".into());
    a.birth_place = Some("prizren".into());
    a.tokens = vec![PnumToken::blind("kosovo", "1207900045", token)];
    let mut b = a.clone();
    b.id = "b".into();
    b.tokens = vec![PnumToken::blind("kosovo", "1207900046", token)];
    let score = m.score(&a, &b);
    let level = score
        .fields
        .iter()
        .find(|f| f.field == Field::PersonalNumber)
        .and_then(|f| f.level);
    assert_eq!(level, Some("one edit apart"), "{score:?}");
    // The one keying error is evidence for the pair, not against it, and its m is at least
    // its prior (the error model of typed numbers): the synthetic register's wrong numbers
    // carry a recomputed check digit (two edits), so its duplicates never show this level and
    // EM alone gave it m = 0.0076 here.
    let pnum = m
        .fields
        .iter()
        .find(|f| f.field == Field::PersonalNumber)
        .expect("the field");
    let part = score
        .fields
        .iter()
        .find(|f| f.field == Field::PersonalNumber)
        .map_or(f64::NAN, |f| f.weight);
    assert!(
        part > 0.0 && pnum.levels[1].m >= 0.03 - 1e-12,
        "one edit apart weighs {part:.1} bits: {pnum:?}"
    );
    assert!(
        score.weight >= m.thresholds.matched,
        "weight {:.1} under Match {:.1}: {score:?}",
        score.weight,
        m.thresholds.matched
    );
    // Strangers whose numbers share the first half "12079" (more than the cap of that rule).
    let mut records: Vec<PersonRecord> = (0..150u32)
        .map(|i| {
            let mut p = person(
                &format!("s{i}"),
                ["Arben", "Drita", "Valon", "Fatmir", "Lirie"][i as usize % 5],
                ["Gashi", "Berisha", "Morina", "Kelmendi", "Shala"][i as usize / 5 % 5],
                (1940 + (i % 60) as i32, 1 + i % 12, 1 + i % 28),
            );
            p.tokens = vec![PnumToken::blind(
                "kosovo",
                &format!("12079{:05}", 10_000 + i * 373),
                token,
            )];
            p
        })
        .collect();
    records.push(a);
    records.push(b);
    let (ia, ib) = (records.len() - 2, records.len() - 1);
    let d = dedupe(m, &records, m.thresholds.matched);
    let near = d
        .stats
        .rules
        .iter()
        .find(|r| r.rule.contains("one edit"))
        .expect("the rule");
    assert!(near.skipped_blocks >= 1, "{near:?}");
    assert!(
        d.pairs
            .iter()
            .any(|p| (p.a, p.b) == (ia, ib) && p.is_match(m.thresholds.matched)),
        "the pair is not found at Match: {:?}",
        d.stats
    );
    // Within the cap, the rule takes only the pairs whose numbers are one edit apart, not
    // everyone sharing the half.
    let few: Vec<PersonRecord> = records[records.len() - 12..].to_vec();
    let d = dedupe(m, &few, m.thresholds.matched);
    let near = d
        .stats
        .rules
        .iter()
        .find(|r| r.rule.contains("one edit"))
        .expect("the rule");
    assert_eq!((near.skipped_blocks, near.pairs), (0, 1), "{near:?}");
}

/// Issue 16, the finding itself: linking a file to a register without duplicates. Trained on
/// the register alone, its own prior drove the thresholds to about 56 bits and F1 at Match was
/// 0.008; a link job estimates the prior from the two sources. On the generic benchmark (not
/// the project's population), 1,000 × 1,000 with 1–3 corruptions per copy.
#[test]
fn a_file_links_to_a_clean_register_at_the_default_thresholds() {
    use civreg_shared::linkage::generic::{evaluate_link, GenericConfig, GenericSet, LinkHow};
    let set = GenericSet::generate(&GenericConfig::new(0x16, 1_000));
    let e = evaluate_link(&set, LinkHow::Job).expect("link job");
    eprintln!(
        "at Match {:?}; oracle {:?}; blocking recall {:.4}; thresholds {:?}; λ {:.3e}; found by corruption {:?}",
        e.at_match, e.oracle, e.blocking_recall, e.thresholds, e.lambda, e.by_corruption
    );
    assert!(
        e.blocking_recall >= 0.98,
        "blocking recall {:.4}",
        e.blocking_recall
    );
    assert!(e.at_match.precision >= 0.99, "{:?}", e.at_match);
    // Measured: blocking recall 0.988, P 1.0, R 0.976, F1 0.988 at Match (oracle 0.994). The
    // issue's target is F1 >= 0.99 (README, "Not finished"); these bounds guard the gain.
    assert!(e.at_match.f1 >= 0.97, "{:?}", e.at_match);
    // The prior is the job's: 500 of the 1,000 rows are in the register of 1,000 (estimated
    // 492 when written; the register's own prior was about 1e-15).
    let expected = e.lambda * (e.rows * e.register) as f64;
    assert!(
        (expected - 500.0).abs() < 50.0,
        "expected matches {expected:.0}"
    );
    assert!(
        e.oracle.f1 - e.at_match.f1 < 0.02,
        "F1 at Match {:.4} against {:.4} at the best threshold",
        e.at_match.f1,
        e.oracle.f1
    );
}

/// The same benchmark deduplicated as one file, the source with its own duplicates.
#[test]
fn a_file_with_its_own_duplicates_dedupes_at_the_default_thresholds() {
    use civreg_shared::linkage::generic::{evaluate_dedupe, GenericConfig, GenericSet};
    let set = GenericSet::generate(&GenericConfig {
        own_duplicates: 0.2,
        ..GenericConfig::new(0x17, 1_000)
    });
    let e = evaluate_dedupe(&set).expect("dedupe");
    eprintln!(
        "at Match {:?}; oracle {:?}; blocking recall {:.4}; thresholds {:?}",
        e.at_match, e.oracle, e.blocking_recall, e.thresholds
    );
    assert!(
        e.blocking_recall >= 0.92,
        "blocking recall {:.4}",
        e.blocking_recall
    );
    // Measured: blocking recall 0.926, P 0.999, R 0.894, F1 0.944 at Match (oracle 0.958);
    // the target 0.99 is not met (README, "Not finished").
    assert!(e.at_match.precision >= 0.99, "{:?}", e.at_match);
    assert!(e.at_match.f1 >= 0.93, "{:?}", e.at_match);
    // The pairs no rule blocks are few, and clusters find pairs the pair model alone misses,
    // without a false one.
    assert!(
        e.at_match.true_positives > e.at_match_pairwise.true_positives,
        "with clusters {:?}, pairwise {:?}",
        e.at_match,
        e.at_match_pairwise
    );
    assert_eq!(
        e.at_match.predicted - e.at_match.true_positives,
        e.at_match_pairwise.predicted - e.at_match_pairwise.true_positives,
        "false pairs: clusters added some"
    );
    assert!(e.compared_recall >= e.blocking_recall);
}

/// Issue 16: both names damaged by one corruption (swapped and then misspelt beyond the
/// swapped levels, a typo in each) are one event, not two independent disagreements. The model
/// learns how much more often both names disagree together among matches than independence
/// predicts (`Model::names_together`: on this set about 3 bits for both names different), a
/// pair's weight carries it, such true pairs reach Match at least as often as with the term at
/// 0 bits (the fields' weights alone), and no false pair with both names different does.
#[test]
fn both_names_damaged_together_weigh_as_one_event() {
    use civreg_shared::linkage::generic::{hub_train_config, GenericConfig, GenericSet};
    let set = GenericSet::generate(&GenericConfig {
        own_duplicates: 0.2,
        ..GenericConfig::new(0x18, 1_500)
    });
    let token = civreg_shared::synth::eval::test_token;
    let mut records = set.register_records(token);
    records.extend(set.source_records(token));
    let mut entity: Vec<usize> = (0..set.register.len()).collect();
    entity.extend(set.source_entity.iter().copied());
    let model = Matcher::train(&records, &hub_train_config(records.len())).expect("training");
    let bits = |m: &Model, g: &str, s: &str| {
        m.names_together
            .cells
            .iter()
            .find(|c| c.given == g && c.surname == s)
            .map(|c| c.bits)
            .expect("the cell")
    };
    let dd = bits(&model, "different", "different");
    eprintln!("names together: {:?}", model.names_together.cells);
    assert!(dd > 1.0, "both names different: {dd:.2} bits");
    // The same model with the joint term at 0 bits in every cell.
    let mut json: serde_json::Value = serde_json::from_str(&model.to_json()).expect("json");
    for c in json["names_together"]["cells"]
        .as_array_mut()
        .expect("cells")
    {
        c["bits"] = 0.0.into();
    }
    let alone = Model::from_json(&json.to_string()).expect("a model");
    assert_eq!(bits(&alone, "different", "different"), 0.0);
    // The true pairs whose given names and surnames both disagree in place, found at Match.
    let both_damaged = |m: &Model| -> (u64, u64) {
        let d = dedupe(m, &records, m.thresholds.matched);
        let (mut found, mut wrong) = (0, 0);
        for p in d.pairs.iter().filter(|p| p.is_match(m.thresholds.matched)) {
            let s = m.score(&records[p.a], &records[p.b]);
            let damaged = [Field::GivenName, Field::Surname].iter().all(|f| {
                s.fields
                    .iter()
                    .find(|x| x.field == *f)
                    .and_then(|x| x.level)
                    == Some("different")
            });
            if damaged {
                if entity[p.a] == entity[p.b] {
                    found += 1;
                } else {
                    wrong += 1;
                }
            }
        }
        (found, wrong)
    };
    let (with, with_wrong) = both_damaged(&model);
    let (without, _) = both_damaged(&alone);
    eprintln!(
        "true pairs with both names different at Match: {with} with the term, {without} without"
    );
    assert!(with >= without, "with the term {with}, without {without}");
    assert_eq!(
        with_wrong, 0,
        "false pairs with both names different at Match"
    );
    // Both names different weighs less against than the two fields' disagreements alone, and
    // still against: a pair needs its other fields to reach Match.
    let g = |m: &Model| {
        let a = person("a", "Drita", "Krasniqi", (1980, 3, 14));
        let b = person("b", "Arben", "Gashi", (1980, 3, 14));
        m.score(&a, &b)
    };
    let (s, s0) = (g(&model), g(&alone));
    assert!((s.weight - s0.weight - dd).abs() < 1e-9, "{s:?} {s0:?}");
    assert!((s.names_together - dd).abs() < 1e-9, "{s:?}");
    let names: f64 = s.fields[..2].iter().map(|f| f.weight).sum();
    assert!(names + s.names_together < 0.0, "{s:?}");
}

/// --expect-matches and given thresholds are used; nonsense is refused.
#[test]
fn a_link_job_takes_the_prior_and_thresholds_it_is_given() {
    use civreg_shared::linkage::{LinkJob, LinkOptions};
    let t = trained();
    let register = &t.set.people[..2_000];
    let rows = &t.set.people[2_000..2_400];
    let cfg = TrainConfig {
        random_pairs: 50_000,
        ..TrainConfig::default()
    };
    let est = LinkJob::new(register, rows, &LinkOptions::new(cfg.clone())).expect("job");
    assert_eq!(est.prior.source, "deterministic rules");
    let half = LinkJob::new(
        register,
        rows,
        &LinkOptions {
            expect_matches: Some(0.5),
            ..LinkOptions::new(cfg.clone())
        },
    )
    .expect("job");
    assert!(
        (half.prior.expected_matches - 200.0).abs() < 1e-6,
        "{:?}",
        half.prior
    );
    let given = LinkJob::new(
        register,
        rows,
        &LinkOptions {
            threshold: Some(12.0),
            possible: Some(3.0),
            ..LinkOptions::new(cfg.clone())
        },
    )
    .expect("job");
    assert_eq!(given.prior.thresholds.matched, 12.0);
    assert_eq!(given.class(12.5), Class::Match);
    assert_eq!(given.class(5.0), Class::Possible);
    for bad in [
        LinkOptions {
            expect_matches: Some(0.0),
            ..LinkOptions::new(cfg.clone())
        },
        LinkOptions {
            threshold: Some(3.0),
            possible: Some(12.0),
            ..LinkOptions::new(cfg.clone())
        },
    ] {
        assert!(LinkJob::new(register, rows, &bad).is_err());
    }
}

/// A link job classes a row by the posterior that its best candidate is its person given all
/// its candidates: a row that matches two register records equally well (namesakes born the
/// same day, told apart in the register by their numbers and places, which the row lacks) is
/// not linked to either automatically, though each alone weighs far above the Match
/// threshold; the same row against one of them is a Match. Another record of the best's own
/// person (here: the hub test `dedupe_finds_planted_duplicates_and_link_survives_a_ragged_file`)
/// is no rival.
#[test]
fn a_row_with_two_equal_candidates_is_not_linked_automatically() {
    use civreg_shared::linkage::generic::{GenericConfig, GenericSet};
    use civreg_shared::linkage::{LinkJob, LinkOptions};
    use civreg_shared::synth::eval::test_token;
    let set = GenericSet::generate(&GenericConfig::new(0x2a, 1_000));
    let mut register = set.register_records(test_token);
    let mut rows = set.source_records(test_token);
    let k = register
        .iter()
        .position(|r| !r.tokens.is_empty() && r.birth_place.is_some())
        .expect("a person with a number and a place");
    // A namesake born the same day, with another number and place.
    let mut twin = register[k].clone();
    twin.id = "twin".into();
    twin.tokens = vec![PnumToken::blind("kosovo", "0000000001", test_token)];
    twin.birth_place = Some(if register[k].birth_place.as_deref() == Some("istog") {
        "prishtine".into()
    } else {
        "istog".into()
    });
    // A row with their names, sex and date, no number, place or parents.
    let mut row = register[k].clone();
    row.id = "row".into();
    row.tokens.clear();
    row.birth_place = None;
    row.father_given_name = None;
    row.mother_given_name = None;
    register.push(twin);
    rows.push(row);
    let cfg = civreg_shared::linkage::generic::hub_train_config(register.len() + rows.len());
    let mut job = LinkJob::new(&register, &rows, &LinkOptions::new(cfg)).expect("job");
    let links = job.link_all(&rows, 1);
    let l = links.last().expect("the row's link");
    let best = l.best.as_ref().expect("a candidate");
    assert!(
        best.score.weight > job.prior.thresholds.matched + 2.0,
        "{best:?} against {:?}",
        job.prior.thresholds
    );
    assert!(
        l.rivals
            .is_some_and(|r| (r - best.score.weight).abs() < 1e-9),
        "{l:?}"
    );
    assert_eq!(l.class, Class::Possible, "{l:?}");
    assert!((best.score.probability - 0.5).abs() < 0.01, "{best:?}");
    assert_eq!(
        job.row_class(best.score.weight, Some(best.score.weight)),
        Class::Possible
    );
    // Alone, it is a Match.
    assert_eq!(job.row_class(best.score.weight, None), Class::Match);
    assert!(job.row_probability(best.score.weight, None) > 0.999);
}

/// An address, where a source has one, is evidence: trained on a source whose people have
/// addresses, the same person with the same address (one word misspelt) weighs more than
/// without one, and more than with another address. Trained on records without any, the
/// address weighs nothing either way.
#[test]
fn addresses_are_compared_word_by_word() {
    use civreg_shared::linkage::generic::{hub_train_config, GenericConfig, GenericSet};
    use civreg_shared::synth::eval::test_token;
    let set = GenericSet::generate(&GenericConfig::new(0x5e, 1_000));
    const STREETS: [&str; 7] = [
        "stanley",
        "pinkerton",
        "goldfinch",
        "light",
        "giblin",
        "edkins",
        "tullaroop",
    ];
    let address = |e: usize| {
        format!(
            "{} {} street {} {}",
            e % 97 + 1,
            STREETS[e % STREETS.len()],
            ["miami", "dapto", "bittern", "richlands"][e % 4],
            4000 + e % 300
        )
    };
    let mut records = set.register_records(test_token);
    for (i, r) in records.iter_mut().enumerate() {
        r.address = Some(address(i));
    }
    let mut rows = set.source_records(test_token);
    for (i, (r, &e)) in rows.iter_mut().zip(&set.source_entity).enumerate() {
        // A third of the copies with the street misspelt (two letters swapped).
        let mut a = address(e);
        if i % 3 == 0 {
            let street = STREETS[e % STREETS.len()];
            let mut b: Vec<char> = street.chars().collect();
            b.swap(1, 2);
            a = a.replacen(street, &b.into_iter().collect::<String>(), 1);
        }
        r.address = Some(a);
    }
    records.extend(rows);
    let m = Matcher::train(&records, &hub_train_config(records.len())).expect("model");
    let mut a = person("a", "Courtney", "Painter", (1916, 12, 14));
    a.address = Some("12 Pinkerton Circuit, Bega Flats, Richlands 4560".into());
    let mut same = person("b", "Courtney", "Painter", (1916, 12, 14));
    same.address = Some("12 pinkertno circuit bega flats richlands 4560".into());
    let mut other = same.clone();
    other.address = Some("3 Light Street, Pinehill, Windermere 3212".into());
    let mut none = same.clone();
    none.address = None;
    let level = |s: &civreg_shared::linkage::Score| {
        s.fields
            .iter()
            .find(|f| f.field == Field::Address)
            .and_then(|f| f.level)
    };
    let (ws, wo, wn) = (m.score(&a, &same), m.score(&a, &other), m.score(&a, &none));
    assert_eq!(level(&ws), Some("most words"), "{ws:?}");
    assert_eq!(level(&wo), Some("different"), "{wo:?}");
    assert_eq!(level(&wn), None, "{wn:?}");
    let mut exact = same.clone();
    exact.address = a.address.clone();
    let we = m.score(&a, &exact);
    assert_eq!(level(&we), Some("same"), "{we:?}");
    assert!(we.weight > wn.weight + 2.0, "{we:?} {wn:?}");
    assert!(ws.weight > wn.weight + 1.0, "{ws:?} {wn:?}");
    assert!(wn.weight > wo.weight + 1.0, "{wn:?} {wo:?}");
    // The register of the project has no addresses: the field then weighs nothing.
    let plain = &trained().model;
    let (ps, pn) = (plain.score(&a, &same), plain.score(&a, &none));
    assert!((ps.weight - pn.weight).abs() < 1e-9, "{ps:?} {pn:?}");
}

/// Issue 16: a copy whose surname was misspelt at its first letter and whose month was mistyped
/// shares no key with its original under the name and date rules; one name with the year and
/// the municipality of birth brings them together. Without the place (or in another year)
/// nothing does: the rule stays small.
#[test]
fn a_name_with_the_year_and_place_of_birth_blocks_a_misspelt_initial_and_month() {
    let mut a = person("a", "Louis", "Williams", (1936, 7, 16));
    a.birth_place = Some("junik".into());
    let mut b = person("b", "Louis", "Zilliams", (1936, 8, 16));
    b.birth_place = Some("junik".into());
    // Swapped as well: the name found in the other field.
    let mut c = person("c", "Zilliams", "Louis", (1936, 8, 16));
    c.birth_place = Some("junik".into());
    let mut no_place = b.clone();
    no_place.birth_place = None;
    let mut other_year = b.clone();
    other_year.birth_date = Some(PartialDate::ymd(1937, 8, 16));
    let records = [a, b, c, no_place, other_year];
    let rules = first_rules(&records, &[(0, 1), (0, 2), (0, 3), (0, 4)]);
    let rule = RULES
        .iter()
        .position(|r| r.contains("municipality of birth"))
        .expect("the rule");
    assert_eq!(rules, [Some(rule), Some(rule), None, None], "{RULES:?}");
}

/// Issue 16 at 3.1 million records: the rules for a mistyped date or two misspelt names keep
/// their pairs with narrower keys. Rule by rule, a pair it must block, and namesakes it no
/// longer blocks (the wide keys compared 390 + 85 + 52 million pairs at 3.1 million records).
#[test]
fn the_narrowed_rules_still_block_their_corrupted_pairs() {
    let rule = |name: &str| {
        RULES
            .iter()
            .position(|r| *r == name)
            .unwrap_or_else(|| panic!("no rule {name:?} in {RULES:?}"))
    };
    let a = person("a", "Ardian", "Kastrati", (1976, 3, 14));
    let cases: [(PersonRecord, Option<usize>); 11] = [
        // Both names misspelt after the first letter (neither key agrees), swapped, date right.
        (
            person("b", "Kasbrati", "Arnian", (1976, 3, 14)),
            Some(rule("date of birth + both initials, or both names' last two letters, either order")),
        ),
        // Both names misspelt, one at its first letter, the date right: the last letters.
        (
            person("j", "Mrdian", "Kasbrati", (1976, 3, 14)),
            Some(rule("date of birth + both initials, or both names' last two letters, either order")),
        ),
        // One name misspelt at its first letter, the other at its last, the date right.
        (
            person("l", "Mrdian", "Kastratz", (1976, 3, 14)),
            Some(rule("date of birth + one name's initial and the last two letters of either name, either order")),
        ),
        // The surname misspelt at its first letter, the year's last digit mistyped.
        (
            person("k", "Ardian", "Mastrati", (1978, 3, 14)),
            Some(rule("one name + the other's last two letters, either order, + day and month of birth + decade of birth")),
        ),
        // The surname misspelt, the year's last digit mistyped.
        (
            person("c", "Ardian", "Kasbrati", (1978, 3, 14)),
            Some(rule("one name + the other's initial, either order, + day and month of birth + decade of birth")),
        ),
        // The surname misspelt, the year's tens digit mistyped.
        (
            person("d", "Ardian", "Kasbrati", (1936, 3, 14)),
            Some(rule("one name + the other's initial, either order, + day and month of birth + last digit of the birth year")),
        ),
        // The surname misspelt, the day mistyped.
        (
            person("e", "Ardian", "Kasbrati", (1976, 3, 17)),
            Some(rule("one name + the other's initial, either order, + birth year + month")),
        ),
        // The surname misspelt, the month mistyped.
        (
            person("f", "Ardian", "Kasbrati", (1976, 8, 14)),
            Some(rule("one name + the other's initial, either order, + birth year + day")),
        ),
        // Namesakes the wide keys blocked and these do not: the same date, another family
        // (the date with one initial) ...
        (person("g", "Arta", "Berisha", (1976, 3, 14)), None),
        // ... the same given name and birthday in another decade and year (one name + the
        // day and month, any year) ...
        (person("h", "Ardian", "Berisha", (1951, 3, 14)), None),
        // ... the same given name, year and another day and month (one name + the other's
        // initial + the year).
        (person("i", "Ardian", "Kosumi", (1976, 9, 2)), None),
    ];
    let mut records = vec![a];
    records.extend(cases.iter().map(|c| c.0.clone()));
    let pairs: Vec<(usize, usize)> = (1..records.len()).map(|i| (0, i)).collect();
    let got = first_rules(&records, &pairs);
    for ((p, want), got) in cases.iter().zip(got) {
        assert_eq!(
            got.map(|r| RULES[r]),
            want.map(|r| RULES[r]),
            "{} {} {:?}",
            p.given_name,
            p.surname,
            p.birth_date
        );
    }
}

/// Issue 16, blocking at 3.1 million records with fewer pairs (task "blocking"): the keys that
/// replaced wider ones still bring their corrupted pairs together, the namesakes the wide keys
/// compared stay apart, and one name's initial and last two letters with the date bring
/// FEBRL 3's pairs (a given name replaced or left out, the surname misspelt) without a date's
/// block of everyone of one initial.
#[test]
fn the_cheaper_keys_still_block_their_corrupted_pairs() {
    let rule = |name: &str| {
        RULES
            .iter()
            .position(|r| *r == name)
            .unwrap_or_else(|| panic!("no rule {name:?} in {RULES:?}"))
    };
    let signature = Some(rule(
        "date of birth + one name's initial and the last two letters of either name, either order",
    ));
    let parents = Some(rule(
        "father's + mother's given names + birth year + the day or the month of birth",
    ));
    let father = Some(rule("given name + surname + father's given name"));
    let with_parents = |mut p: PersonRecord| {
        p.father_given_name = Some("Besim".into());
        p.mother_given_name = Some("Drita".into());
        p
    };
    let a = with_parents(person("a", "Jack", "Broadby", (1919, 4, 11)));
    let mut no_date = with_parents(person("n", "Jack", "Broadby", (1919, 4, 11)));
    no_date.birth_date = None;
    let cases: [(PersonRecord, Option<usize>); 9] = [
        // The given name replaced, the surname misspelt in its middle, the date right.
        (person("b", "Tate", "Broaby", (1919, 4, 11)), signature),
        // The given name left out.
        (person("c", "", "Brqadby", (1919, 4, 11)), signature),
        // The surname, misspelt, in the given name's field, the other name another.
        (person("d", "Broaby", "Ella", (1919, 4, 11)), signature),
        // Another family born the same day whose surname has the same initial: apart.
        (person("e", "Arben", "Bajrami", (1919, 4, 11)), None),
        // Both names misspelt at both ends, the day mistyped: the parents, year and month.
        (
            with_parents(person("f", "Zacj", "Droadbu", (1919, 4, 12))),
            parents,
        ),
        // A child of namesake parents born the same year, another day and month: apart
        // (the parents' names with the year alone compared them).
        (
            with_parents(person("g", "Zacj", "Droadbu", (1919, 9, 23))),
            None,
        ),
        // The same names and father, no date on one side: the father's rule ...
        (no_date, father),
        // ... but with two whole dates far apart, no rule (cousins named alike).
        (
            with_parents(person("h", "Jack", "Broadby", (1957, 2, 20))),
            None,
        ),
        // The names swapped, the year right and the day and month both mistyped: the names
        // in either order + the year; a year one off with them is no longer blocked.
        (
            person("i", "Broadby", "Jack", (1919, 7, 28)),
            Some(rule("given name + surname, either order, + birth year")),
        ),
    ];
    let mut records = vec![a];
    records.extend(cases.iter().map(|c| c.0.clone()));
    let mut pairs: Vec<(usize, usize)> = (1..records.len()).map(|i| (0, i)).collect();
    let year_off = person("j", "Broadby", "Jack", (1920, 7, 28));
    records.push(year_off);
    pairs.push((0, records.len() - 1));
    let got = first_rules(&records, &pairs);
    let want: Vec<Option<usize>> = cases.iter().map(|c| c.1).chain([None]).collect();
    for ((&(_, i), got), want) in pairs.iter().zip(got).zip(want) {
        let p = &records[i];
        assert_eq!(
            got.map(|r| RULES[r]),
            want.map(|r| RULES[r]),
            "{} {} {:?}",
            p.given_name,
            p.surname,
            p.birth_date
        );
    }
}

/// Rows of a file: copies of register people reduced to names, sex and place of birth (a list
/// of people to look up, as clerks send them), `copies` of them, and the file's people not in
/// the register, complete, or reduced the same way when `strangers_named_only`. Returns the
/// register, the rows and each row's register record (`None`: not in the register).
fn names_only_file(
    copies: usize,
    strangers_named_only: bool,
) -> (Vec<PersonRecord>, Vec<PersonRecord>, Vec<Option<usize>>) {
    use civreg_shared::linkage::generic::{GenericConfig, GenericSet};
    use civreg_shared::synth::eval::test_token;
    let set = GenericSet::generate(&GenericConfig::new(0x4b1d, 1_000));
    let register = set.register_records(test_token);
    let names_only = |mut r: PersonRecord| {
        r.birth_date = None;
        r.tokens.clear();
        r.father_given_name = None;
        r.mother_given_name = None;
        r
    };
    let mut rows = Vec::new();
    let mut truth = Vec::new();
    for (i, r) in register.iter().enumerate().step_by(3).take(copies) {
        rows.push(names_only(PersonRecord {
            id: format!("copy{i}"),
            ..r.clone()
        }));
        truth.push(Some(i));
    }
    for (r, t) in set.source_records(test_token).into_iter().zip(set.truth()) {
        if t.is_none() {
            rows.push(if strangers_named_only && rows.len() % 2 == 0 {
                names_only(r)
            } else {
                r
            });
            truth.push(None);
        }
    }
    (register, rows, truth)
}

/// How many `rows` lacking their date are linked at Match to their person, and wrongly.
fn names_only_matches(
    job: &mut civreg_shared::linkage::LinkJob,
    rows: &[PersonRecord],
    truth: &[Option<usize>],
) -> (usize, usize, usize) {
    let links = job.link_all(rows, 1);
    let (mut n, mut right, mut wrong) = (0, 0, 0);
    for ((l, r), t) in links.iter().zip(rows).zip(truth) {
        if r.birth_date.is_some() {
            continue;
        }
        n += 1;
        if l.class == Class::Match {
            if l.best.as_ref().map(|b| b.index) == *t {
                right += 1;
            } else {
                wrong += 1;
            }
        }
    }
    (n, right, wrong)
}

/// A link job's share of rows with a person in the register is estimated by kind of row (the
/// identifying fields it lacks), not taken as one share for every row: a file of which the
/// rows reduced to names, sex and place are all register people (looked up by name) links
/// them at Match though they weigh under the Match threshold of the file's complete rows, most
/// of which are not in the register. With one share for every row (as before) most
/// of them stay under Match.
#[test]
fn a_kind_of_row_that_is_always_in_the_register_links_at_match() {
    use civreg_shared::linkage::generic::hub_train_config;
    use civreg_shared::linkage::{LinkJob, LinkOptions};
    let (register, rows, truth) = names_only_file(200, false);
    let cfg = hub_train_config(register.len() + rows.len());
    let mut job = LinkJob::new(&register, &rows, &LinkOptions::new(cfg.clone())).expect("job");
    let (n, right, wrong) = names_only_matches(&mut job, &rows, &truth);
    let kind = job
        .prior
        .by_kind
        .iter()
        .find(|k| k.lacks.iter().any(|f| f == "birth_date"))
        .expect("the names-only kind");
    eprintln!(
        "names-only rows {n}: {right} right and {wrong} wrong at Match; thresholds {:?}; kinds {:?}",
        job.prior.thresholds, job.prior.by_kind
    );
    assert_eq!(n, 200);
    assert_eq!(kind.rows, 200);
    assert!(kind.share > 0.95, "{kind:?}");
    assert_eq!(wrong, 0);
    // That kind's thresholds are its own, under the job's overall ones, and they are where a
    // lone candidate of such a row turns Match and Possible.
    let t = kind.thresholds.expect("each kind's thresholds");
    assert!(
        t.matched < job.prior.thresholds.matched - 1.0 && t.possible <= t.matched,
        "{kind:?} against {:?}",
        job.prior.thresholds
    );
    let names_only = rows.iter().find(|r| r.birth_date.is_none()).unwrap();
    assert_eq!(job.row_thresholds(names_only), t);
    assert_eq!(
        job.row_class_of(names_only, t.matched + 1e-6, None),
        Class::Match
    );
    assert_ne!(
        job.row_class_of(names_only, t.matched - 1e-6, None),
        Class::Match
    );
    assert_eq!(
        job.row_class_of(names_only, t.possible - 1e-6, None),
        Class::New
    );
    // Measured: 123 of 200 (the rest weigh under 10 bits: common names, or a namesake born
    // in the same place).
    assert!(right >= 100, "{right} of {n} at Match");
    // One share for every row: the same rows need the complete rows' threshold.
    let mut one = LinkJob::new(
        &register,
        &rows,
        &LinkOptions {
            share_by_kind: false,
            ..LinkOptions::new(cfg)
        },
    )
    .expect("job");
    let (_, right_one, _) = names_only_matches(&mut one, &rows, &truth);
    eprintln!("with one share: {right_one} at Match");
    assert!(one.prior.by_kind.len() == 1 && one.prior.by_kind[0].rows == rows.len() as u64);
    assert!(
        right_one < right,
        "{right_one} with one share, {right} by kind"
    );
}

/// The share by kind does not take a row's gaps for evidence where they are none: when the
/// file's people not in the register lack the same fields as often as its register people,
/// the rows reduced to names, sex and place have the share of the file (about half), and a
/// namesake in the register is not linked at Match for them.
#[test]
fn gaps_as_common_outside_the_register_are_no_evidence() {
    use civreg_shared::linkage::generic::hub_train_config;
    use civreg_shared::linkage::{LinkJob, LinkOptions};
    let (register, rows, truth) = names_only_file(250, true);
    let strangers = truth
        .iter()
        .zip(&rows)
        .filter(|(t, r)| t.is_none() && r.birth_date.is_none())
        .count();
    assert!((230..=270).contains(&strangers), "{strangers}");
    let cfg = hub_train_config(register.len() + rows.len());
    let mut job = LinkJob::new(&register, &rows, &LinkOptions::new(cfg)).expect("job");
    let (n, right, wrong) = names_only_matches(&mut job, &rows, &truth);
    let kind = job
        .prior
        .by_kind
        .iter()
        .find(|k| k.lacks.iter().any(|f| f == "birth_date"))
        .expect("the names-only kind");
    eprintln!(
        "names-only rows {n}: {right} right and {wrong} wrong at Match; kinds {:?}",
        job.prior.by_kind
    );
    // Measured 0.62 against truly 0.50: the pair model counts an agreeing sex beside an
    // agreeing given name, which implies it, so a namesake weighs a bit more than it should.
    // Where every such row is in the register (above) the share is 0.99.
    let truly = 250.0 / n as f64;
    assert!(
        kind.share > truly - 0.15 && kind.share < truly + 0.2,
        "{kind:?}, truly {truly:.3}"
    );
    // Precision at Match on these rows stays that of the Match class (posterior 0.99).
    assert!(
        wrong as f64 <= 0.01 * (right + wrong).max(1) as f64,
        "{wrong} wrong, {right} right"
    );
}

/// Where every row is of one kind, the share by kind is the job's one share, refined as before.
#[test]
fn rows_of_one_kind_have_the_one_share() {
    use civreg_shared::linkage::generic::{hub_train_config, GenericConfig, GenericSet};
    use civreg_shared::linkage::{LinkJob, LinkOptions};
    use civreg_shared::synth::eval::test_token;
    let set = GenericSet::generate(&GenericConfig::new(0x0e, 600));
    let register = set.register_records(test_token);
    // Complete rows only: the strangers, and the copies whose corruptions left every field.
    let rows: Vec<PersonRecord> = set
        .source_records(test_token)
        .into_iter()
        .filter(|r| {
            r.birth_date.is_some()
                && r.birth_place.is_some()
                && !r.tokens.is_empty()
                && r.father_given_name.is_some()
                && r.mother_given_name.is_some()
        })
        .collect();
    assert!(rows.len() > 50, "{} complete rows", rows.len());
    let cfg = hub_train_config(register.len() + rows.len());
    let mut by_kind = LinkJob::new(&register, &rows, &LinkOptions::new(cfg.clone())).expect("job");
    let mut one = LinkJob::new(
        &register,
        &rows,
        &LinkOptions {
            share_by_kind: false,
            ..LinkOptions::new(cfg)
        },
    )
    .expect("job");
    let a = by_kind.link_all(&rows, 1);
    let b = one.link_all(&rows, 1);
    assert!(
        (by_kind.prior.lambda - one.prior.lambda).abs() <= 1e-9 * one.prior.lambda,
        "{:?} against {:?}",
        by_kind.prior,
        one.prior
    );
    assert_eq!(by_kind.prior.by_kind.len(), 1);
    assert_eq!(a, b);
}
