//! A generic record-linkage benchmark that is **not** the project's synthetic population
//! ([`crate::synth`]), so that the matcher is measured on data it was not tuned to.
//!
//! It follows the shape of the FEBRL generator (Christen, "Probabilistic data generation for
//! deduplication and data linkage", 2005): independent people drawn from frequency lists, then
//! corrupted copies with a known number of modifications each.
//!
//! - **Names** come from [`GIVEN_MALE`], [`GIVEN_FEMALE`] and [`SURNAMES`]: lists written for this
//!   benchmark by hand from the commonest given names and surnames of about twenty countries
//!   (English-speaking, German, French, Spanish, Portuguese, Italian, Dutch, Polish, Russian,
//!   Greek, Turkish, Arabic, Persian, Indian, Chinese, Vietnamese, Korean, Nigerian, Albanian,
//!   Serbian), in no national order and with no claim to match any census; they are drawn with
//!   Zipf frequencies (s = 1) over the list's (shuffled, seeded) order, so a few names are
//!   common and most are rare, as in every population.
//! - **A person**: given name, surname, sex, date of birth (1930–2020, uniform), municipality
//!   of birth (uniform over the gazetteer), a unique 10-digit personal number (90% present),
//!   and the father's and mother's given names (each present for half the people).
//! - **The register**: `register` people, no duplicates.
//! - **The source**: corrupted copies of half of the register's people plus as many people who
//!   are not in the register. Each copy has 1 to 3 distinct [`Corruption`]s.
//!   With [`GenericConfig::own_duplicates`], that share of the source's rows is copied once more
//!   into the source with its own 1 to 3 corruptions (a source with its own duplicates).
//!
//! Everything is seeded: one configuration always gives the same records.

use super::{
    link_many, Class, LinkJob, LinkOptions, LinkageError, Matcher, PartialDate, PersonRecord,
    PnumToken, RegisterIndex, Thresholds, TrainConfig,
};
use crate::model::Sex;
use crate::synth::{Rng, Zipf};
use chrono::{Datelike, NaiveDate};

/// Commonest male given names of about twenty countries (see the module docs).
pub const GIVEN_MALE: &[&str] = &[
    "James",
    "John",
    "Robert",
    "Michael",
    "William",
    "David",
    "Richard",
    "Thomas",
    "Daniel",
    "Paul",
    "Mark",
    "George",
    "Peter",
    "Andrew",
    "Edward",
    "Henry",
    "Oliver",
    "Jack",
    "Harry",
    "Liam",
    "Noah",
    "Lukas",
    "Leon",
    "Felix",
    "Jonas",
    "Maximilian",
    "Hans",
    "Jürgen",
    "Klaus",
    "Pierre",
    "Jean",
    "Louis",
    "Hugo",
    "Gabriel",
    "Antoine",
    "José",
    "Juan",
    "Carlos",
    "Javier",
    "Miguel",
    "Alejandro",
    "Diego",
    "João",
    "Pedro",
    "Rafael",
    "Marco",
    "Giuseppe",
    "Francesco",
    "Alessandro",
    "Lorenzo",
    "Matteo",
    "Jan",
    "Pieter",
    "Sven",
    "Piotr",
    "Krzysztof",
    "Tomasz",
    "Ivan",
    "Dmitri",
    "Sergei",
    "Alexei",
    "Nikolai",
    "Giorgos",
    "Dimitris",
    "Konstantinos",
    "Mehmet",
    "Mustafa",
    "Ahmet",
    "Emre",
    "Burak",
    "Mohammed",
    "Ahmed",
    "Ali",
    "Omar",
    "Youssef",
    "Hassan",
    "Reza",
    "Hossein",
    "Raj",
    "Arjun",
    "Rahul",
    "Vikram",
    "Wei",
    "Jun",
    "Hao",
    "Minh",
    "Duc",
    "Min-jun",
    "Ji-ho",
    "Chinedu",
    "Emeka",
    "Oluwaseun",
    "Arben",
    "Besnik",
    "Driton",
    "Milan",
    "Nikola",
    "Stefan",
    "Marko",
    "Aleksandar",
    "Alex",
    "Kenji",
    "Hiroshi",
    "Samuel",
];

/// Commonest female given names of about twenty countries (see the module docs).
pub const GIVEN_FEMALE: &[&str] = &[
    "Mary",
    "Patricia",
    "Jennifer",
    "Linda",
    "Elizabeth",
    "Sarah",
    "Emma",
    "Olivia",
    "Sophie",
    "Charlotte",
    "Amelia",
    "Emily",
    "Grace",
    "Anna",
    "Lena",
    "Hannah",
    "Mia",
    "Sabine",
    "Ursula",
    "Marie",
    "Camille",
    "Léa",
    "Chloé",
    "Manon",
    "María",
    "Lucía",
    "Carmen",
    "Sofía",
    "Isabel",
    "Ana",
    "Beatriz",
    "Mariana",
    "Giulia",
    "Francesca",
    "Chiara",
    "Giovanna",
    "Anke",
    "Sanne",
    "Katarzyna",
    "Agnieszka",
    "Małgorzata",
    "Olga",
    "Natalia",
    "Tatiana",
    "Svetlana",
    "Eleni",
    "Maria",
    "Katerina",
    "Ayşe",
    "Fatma",
    "Zeynep",
    "Elif",
    "Fatima",
    "Aisha",
    "Layla",
    "Mariam",
    "Zahra",
    "Maryam",
    "Priya",
    "Ananya",
    "Sunita",
    "Deepa",
    "Mei",
    "Li",
    "Xiu",
    "Lan",
    "Linh",
    "Thu",
    "Ji-woo",
    "Seo-yeon",
    "Ngozi",
    "Chioma",
    "Adaeze",
    "Drita",
    "Vjosa",
    "Teuta",
    "Jelena",
    "Milica",
    "Ivana",
    "Dragana",
    "Yuki",
    "Sakura",
    "Alice",
    "Rose",
    "Clara",
];

/// Commonest surnames of about twenty countries (see the module docs).
pub const SURNAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "Wilson",
    "Taylor",
    "Anderson",
    "Thomas",
    "Moore",
    "Martin",
    "Jackson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Young",
    "King",
    "Wright",
    "Hill",
    "Green",
    "Baker",
    "Murphy",
    "Kelly",
    "O'Brien",
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Kranz",
    "Bernard",
    "Dubois",
    "Durand",
    "Lefebvre",
    "Moreau",
    "Laurent",
    "Garcia",
    "Rodríguez",
    "Martínez",
    "Hernández",
    "López",
    "González",
    "Pérez",
    "Sánchez",
    "Silva",
    "Santos",
    "Ferreira",
    "Oliveira",
    "Costa",
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Bianchi",
    "Romano",
    "Colombo",
    "de Jong",
    "Jansen",
    "de Vries",
    "van Dijk",
    "Nowak",
    "Kowalski",
    "Wiśniewski",
    "Wójcik",
    "Ivanov",
    "Smirnov",
    "Kuznetsov",
    "Popov",
    "Petrov",
    "Papadopoulos",
    "Nikolaidis",
    "Georgiou",
    "Yılmaz",
    "Kaya",
    "Demir",
    "Şahin",
    "Çelik",
    "Öztürk",
    "Hassan",
    "Haddad",
    "Khalil",
    "Nasser",
    "Mansour",
    "Ahmadi",
    "Hosseini",
    "Mohammadi",
    "Rezaei",
    "Patel",
    "Sharma",
    "Singh",
    "Kumar",
    "Gupta",
    "Reddy",
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Chen",
    "Yang",
    "Huang",
    "Zhao",
    "Nguyen",
    "Tran",
    "Le",
    "Pham",
    "Kim",
    "Lee",
    "Park",
    "Choi",
    "Okafor",
    "Adeyemi",
    "Okonkwo",
    "Eze",
    "Krasniqi",
    "Gashi",
    "Berisha",
    "Hoxha",
    "Shala",
    "Morina",
    "Jovanović",
    "Petrović",
    "Nikolić",
    "Marković",
    "Đorđević",
    "Stojanović",
    "Sato",
    "Suzuki",
    "Tanaka",
    "Andersen",
    "Nielsen",
    "Hansen",
    "Johansson",
    "Larsson",
    "Virtanen",
    "Horvat",
    "Novak",
    "Kovač",
    "Szabó",
    "Nagy",
    "Popescu",
    "Ionescu",
];

/// One modification of a copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Corruption {
    /// A typing error (insert, delete, substitute or swap adjacent letters) in the given name.
    GivenTypo,
    /// ... in the surname.
    SurnameTypo,
    /// Given name and surname entered in each other's field.
    SwappedNames,
    /// No date of birth.
    MissingDate,
    /// One digit of the day, month or year changed (to another valid date).
    DateTypo,
    /// Day and month swapped.
    DateSwap,
    /// One digit of the personal number changed, or two adjacent digits swapped.
    NumberTypo,
    /// The personal number, the place or a parent's name left out.
    MissingValue,
}

impl Corruption {
    pub const ALL: [Corruption; 8] = [
        Corruption::GivenTypo,
        Corruption::SurnameTypo,
        Corruption::SwappedNames,
        Corruption::MissingDate,
        Corruption::DateTypo,
        Corruption::DateSwap,
        Corruption::NumberTypo,
        Corruption::MissingValue,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Corruption::GivenTypo => "given-name typo",
            Corruption::SurnameTypo => "surname typo",
            Corruption::SwappedNames => "swapped names",
            Corruption::MissingDate => "missing date",
            Corruption::DateTypo => "date typo",
            Corruption::DateSwap => "day/month swapped",
            Corruption::NumberTypo => "personal-number typo",
            Corruption::MissingValue => "missing value",
        }
    }
}

/// How a [`GenericSet`] is made.
#[derive(Debug, Clone, PartialEq)]
pub struct GenericConfig {
    pub seed: u64,
    /// People in the register (no duplicates).
    pub register: usize,
    /// Share of the source's rows copied once more, with their own corruptions (0: none).
    pub own_duplicates: f64,
    pub min_corruptions: usize,
    pub max_corruptions: usize,
    /// Whether the people not in the register lack values as often as the copies do (each
    /// drawn as a copy of itself would be corrupted, keeping only the missing date, place,
    /// number or parent's name). `false`: they are complete, so that on this set a row that
    /// lacks its date or place is always a copy of a register person.
    pub strangers_lack_values: bool,
}

impl GenericConfig {
    pub fn new(seed: u64, register: usize) -> GenericConfig {
        GenericConfig {
            seed,
            register,
            own_duplicates: 0.0,
            min_corruptions: 1,
            max_corruptions: 3,
            strangers_lack_values: false,
        }
    }
}

/// A person before blinding: the personal number in clear.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub given_name: String,
    pub surname: String,
    pub sex: Sex,
    pub birth_date: Option<NaiveDate>,
    pub birth_place: Option<&'static str>,
    pub personal_number: Option<String>,
    pub father_given_name: Option<String>,
    pub mother_given_name: Option<String>,
}

impl Person {
    /// The matcher's record, the personal number turned into a blind token by `token`.
    pub fn to_record(&self, id: String, token: impl Fn(&str, &str) -> String) -> PersonRecord {
        PersonRecord {
            id,
            given_name: self.given_name.clone(),
            surname: self.surname.clone(),
            birth_surname: None,
            father_given_name: self.father_given_name.clone(),
            mother_given_name: self.mother_given_name.clone(),
            mother_maiden_surname: None,
            sex: Some(self.sex),
            birth_date: self.birth_date.map(PartialDate::from),
            birth_place: self.birth_place.map(str::to_string),
            tokens: self
                .personal_number
                .iter()
                .map(|n| PnumToken::blind("kosovo", n, &token))
                .collect(),
            address: None,
        }
    }
}

/// The register, the source, and the truth.
#[derive(Debug, Clone)]
pub struct GenericSet {
    pub register: Vec<Person>,
    pub source: Vec<Person>,
    /// The person each source row is: an index into `register`, or `register.len() + k` for
    /// the k-th person not in the register.
    pub source_entity: Vec<usize>,
    /// The corruptions of each source row (empty for people not in the register, which are
    /// drawn fresh).
    pub source_corruptions: Vec<Vec<Corruption>>,
}

struct Lists {
    male: Vec<&'static str>,
    female: Vec<&'static str>,
    surnames: Vec<&'static str>,
    zm: Zipf,
    zf: Zipf,
    zs: Zipf,
}

impl Lists {
    fn new(rng: &mut Rng) -> Lists {
        let mut male = GIVEN_MALE.to_vec();
        let mut female = GIVEN_FEMALE.to_vec();
        let mut surnames = SURNAMES.to_vec();
        rng.shuffle(&mut male);
        rng.shuffle(&mut female);
        rng.shuffle(&mut surnames);
        Lists {
            zm: Zipf::new(male.len(), 1.0),
            zf: Zipf::new(female.len(), 1.0),
            zs: Zipf::new(surnames.len(), 1.0),
            male,
            female,
            surnames,
        }
    }

    fn given(&self, rng: &mut Rng, sex: Sex) -> String {
        match sex {
            Sex::Male => self.male[self.zm.sample(rng)].to_string(),
            Sex::Female => self.female[self.zf.sample(rng)].to_string(),
        }
    }

    fn person(&self, rng: &mut Rng, numbers: &mut std::collections::HashSet<String>) -> Person {
        let sex = if rng.chance(0.5) {
            Sex::Male
        } else {
            Sex::Female
        };
        let start = NaiveDate::from_ymd_opt(1930, 1, 1).expect("a date");
        let date = start + chrono::Days::new(rng.below(90 * 365));
        let places = crate::gazetteer::all();
        let personal_number = rng.chance(0.9).then(|| loop {
            let n = format!("{:010}", rng.below(10_000_000_000));
            if numbers.insert(n.clone()) {
                break n;
            }
        });
        Person {
            given_name: self.given(rng, sex),
            surname: self.surnames[self.zs.sample(rng)].to_string(),
            sex,
            birth_date: Some(date),
            birth_place: Some(rng.pick(places).code),
            personal_number,
            father_given_name: rng.chance(0.5).then(|| self.given(rng, Sex::Male)),
            mother_given_name: rng.chance(0.5).then(|| self.given(rng, Sex::Female)),
        }
    }
}

/// A typing error: insert, delete, substitute or swap two adjacent letters.
fn typo(rng: &mut Rng, s: &str) -> String {
    let mut c: Vec<char> = s.chars().collect();
    let letter = (b'a' + rng.below(26) as u8) as char;
    let n = c.len();
    match rng.below(4) {
        0 => c.insert(rng.below(n as u64 + 1) as usize, letter),
        1 if n > 2 => {
            c.remove(rng.below(n as u64) as usize);
        }
        2 if n >= 2 => {
            let i = rng.below(n as u64 - 1) as usize;
            c.swap(i, i + 1);
        }
        _ if n > 0 => {
            let i = rng.below(n as u64) as usize;
            c[i] = if c[i] == letter { 'x' } else { letter };
        }
        _ => c.push(letter),
    }
    let out: String = c.into_iter().collect();
    if out == s {
        format!("{s}{letter}")
    } else {
        out
    }
}

fn corrupt(rng: &mut Rng, p: &mut Person, k: Corruption) -> bool {
    match k {
        Corruption::GivenTypo => p.given_name = typo(rng, &p.given_name),
        Corruption::SurnameTypo => p.surname = typo(rng, &p.surname),
        Corruption::SwappedNames => std::mem::swap(&mut p.given_name, &mut p.surname),
        Corruption::MissingDate => {
            if p.birth_date.take().is_none() {
                return false;
            }
        }
        Corruption::DateTypo => {
            let Some(d) = p.birth_date else {
                return false;
            };
            for _ in 0..20 {
                let (y, m, dd) = (d.year(), d.month(), d.day());
                let cand = match rng.below(3) {
                    0 => NaiveDate::from_ymd_opt(y - y % 10 + rng.below(10) as i32, m, dd),
                    1 => NaiveDate::from_ymd_opt(y, m - m % 10 + rng.below(10) as u32, dd),
                    _ => NaiveDate::from_ymd_opt(y, m, dd - dd % 10 + rng.below(10) as u32),
                };
                if let Some(c) = cand.filter(|c| *c != d) {
                    p.birth_date = Some(c);
                    return true;
                }
            }
            return false;
        }
        Corruption::DateSwap => {
            let Some(d) = p.birth_date else {
                return false;
            };
            match NaiveDate::from_ymd_opt(d.year(), d.day(), d.month()).filter(|s| *s != d) {
                Some(s) => p.birth_date = Some(s),
                None => return false,
            }
        }
        Corruption::NumberTypo => {
            let Some(n) = &p.personal_number else {
                return false;
            };
            let mut c: Vec<u8> = n.bytes().collect();
            if rng.chance(0.5) {
                let i = rng.below(c.len() as u64 - 1) as usize;
                if c[i] == c[i + 1] {
                    c[i] = if c[i] == b'9' { b'0' } else { c[i] + 1 };
                } else {
                    c.swap(i, i + 1);
                }
            } else {
                let i = rng.below(c.len() as u64) as usize;
                c[i] = b'0' + ((c[i] - b'0' + 1 + rng.below(9) as u8) % 10);
            }
            p.personal_number = Some(String::from_utf8(c).expect("digits"));
        }
        Corruption::MissingValue => match rng.below(3) {
            0 if p.personal_number.is_some() => p.personal_number = None,
            1 if p.father_given_name.is_some() || p.mother_given_name.is_some() => {
                if p.father_given_name.take().is_none() {
                    p.mother_given_name = None;
                }
            }
            _ => {
                if p.birth_place.take().is_none() {
                    return false;
                }
            }
        },
    }
    true
}

fn corrupted_copy(rng: &mut Rng, p: &Person, cfg: &GenericConfig) -> (Person, Vec<Corruption>) {
    let lo = cfg.min_corruptions.max(1);
    let hi = cfg.max_corruptions.max(lo);
    let want = lo + rng.below((hi - lo + 1) as u64) as usize;
    let mut q = p.clone();
    let mut done: Vec<Corruption> = Vec::new();
    let mut tries = 0;
    while done.len() < want && tries < 50 {
        tries += 1;
        let k = *rng.pick(&Corruption::ALL);
        if done.contains(&k) {
            continue;
        }
        // A date can not be both missing and mistyped.
        let date_kinds = [
            Corruption::MissingDate,
            Corruption::DateTypo,
            Corruption::DateSwap,
        ];
        if date_kinds.contains(&k) && done.iter().any(|d| date_kinds.contains(d)) {
            continue;
        }
        if corrupt(rng, &mut q, k) {
            done.push(k);
        }
    }
    done.sort_unstable();
    (q, done)
}

impl GenericSet {
    pub fn generate(cfg: &GenericConfig) -> GenericSet {
        let mut rng = Rng::new(cfg.seed ^ 0x6E4E_21C0_FEB2_1005);
        let lists = Lists::new(&mut rng);
        let mut numbers = std::collections::HashSet::new();
        let register: Vec<Person> = (0..cfg.register)
            .map(|_| lists.person(&mut rng, &mut numbers))
            .collect();
        let mut chosen: Vec<usize> = (0..cfg.register).collect();
        rng.shuffle(&mut chosen);
        chosen.truncate(cfg.register / 2);
        let mut source = Vec::new();
        let mut source_entity = Vec::new();
        let mut source_corruptions = Vec::new();
        for &i in &chosen {
            let (q, ks) = corrupted_copy(&mut rng, &register[i], cfg);
            source.push(q);
            source_entity.push(i);
            source_corruptions.push(ks);
        }
        for k in 0..cfg.register - chosen.len() {
            let mut p = lists.person(&mut rng, &mut numbers);
            if cfg.strangers_lack_values {
                // The missing values of a corrupted copy, the other corruptions left out.
                let (q, _) = corrupted_copy(&mut rng, &p, cfg);
                if q.birth_date.is_none() {
                    p.birth_date = None;
                }
                if q.birth_place.is_none() {
                    p.birth_place = None;
                }
                if q.personal_number.is_none() {
                    p.personal_number = None;
                }
                if q.father_given_name.is_none() {
                    p.father_given_name = None;
                }
                if q.mother_given_name.is_none() {
                    p.mother_given_name = None;
                }
            }
            source.push(p);
            source_entity.push(cfg.register + k);
            source_corruptions.push(Vec::new());
        }
        if cfg.own_duplicates > 0.0 {
            let originals = source.len();
            for i in 0..originals {
                if rng.chance(cfg.own_duplicates) {
                    let original = source[i].clone();
                    let (q, mut ks) = corrupted_copy(&mut rng, &original, cfg);
                    ks.extend(source_corruptions[i].iter().copied());
                    ks.sort_unstable();
                    ks.dedup();
                    source.push(q);
                    source_entity.push(source_entity[i]);
                    source_corruptions.push(ks);
                }
            }
        }
        // Rows in a seeded random order, as a file would hold them.
        let mut order: Vec<usize> = (0..source.len()).collect();
        rng.shuffle(&mut order);
        GenericSet {
            source: order.iter().map(|&i| source[i].clone()).collect(),
            source_entity: order.iter().map(|&i| source_entity[i]).collect(),
            source_corruptions: order
                .iter()
                .map(|&i| source_corruptions[i].clone())
                .collect(),
            register,
        }
    }

    /// The register as matcher records (`r0`, `r1`, ...).
    pub fn register_records(&self, token: impl Fn(&str, &str) -> String) -> Vec<PersonRecord> {
        self.register
            .iter()
            .enumerate()
            .map(|(i, p)| p.to_record(format!("r{i}"), &token))
            .collect()
    }

    /// The source as matcher records (`s0`, `s1`, ...).
    pub fn source_records(&self, token: impl Fn(&str, &str) -> String) -> Vec<PersonRecord> {
        self.source
            .iter()
            .enumerate()
            .map(|(i, p)| p.to_record(format!("s{i}"), &token))
            .collect()
    }

    /// The true register record of each source row, `None` for people not in the register.
    pub fn truth(&self) -> Vec<Option<usize>> {
        let n = self.register.len();
        self.source_entity
            .iter()
            .map(|&e| (e < n).then_some(e))
            .collect()
    }
}

/// Precision, recall and F1 of one classification.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Prf {
    pub true_positives: u64,
    pub predicted: u64,
    pub actual: u64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Prf {
    pub fn new(true_positives: u64, predicted: u64, actual: u64) -> Prf {
        let precision = if predicted == 0 {
            1.0
        } else {
            true_positives as f64 / predicted as f64
        };
        let recall = if actual == 0 {
            1.0
        } else {
            true_positives as f64 / actual as f64
        };
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Prf {
            true_positives,
            predicted,
            actual,
            precision,
            recall,
            f1,
        }
    }
}

/// The best F1 over every threshold, given predictions as (weight, correct) and the number of
/// true links: the "oracle" threshold, a measure of the ranking alone.
pub fn oracle_f1(mut scored: Vec<(f64, bool)>, actual: u64) -> (Prf, f64) {
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut best = (Prf::new(0, 0, actual), f64::INFINITY);
    let mut tp = 0;
    for (k, (w, ok)) in scored.iter().enumerate() {
        tp += u64::from(*ok);
        // Only at the last of equal weights: a threshold takes all of them or none.
        if scored.get(k + 1).is_some_and(|n| n.0 == *w) {
            continue;
        }
        let p = Prf::new(tp, k as u64 + 1, actual);
        if p.f1 > best.0.f1 {
            best = (p, *w);
        }
    }
    best
}

/// What linking a [`GenericSet`]'s source to its register found, against the truth.
#[derive(Debug, Clone)]
pub struct LinkEval {
    pub register: usize,
    pub rows: usize,
    /// Rows classed Match: right register record / all classed Match / rows with a true match.
    pub at_match: Prf,
    /// The same with the Possible rows counted as links.
    pub at_possible: Prf,
    /// The best F1 at any threshold on the best candidate's weight, and that threshold.
    pub oracle: Prf,
    pub oracle_weight: f64,
    /// Share of the rows with a true match whose register record was compared at all.
    pub blocking_recall: f64,
    pub candidates_per_row: f64,
    /// Training, indexing and linking, end to end.
    pub seconds: f64,
    pub thresholds: Thresholds,
    pub lambda: f64,
    /// Per corruption: rows with a true match that have it, and those of them found at Match.
    pub by_corruption: Vec<(Corruption, u64, u64)>,
}

/// What deduplicating a [`GenericSet`]'s register and source together found.
#[derive(Debug, Clone)]
pub struct DedupeEval {
    pub records: usize,
    /// Pairs of records of one person.
    pub true_pairs: u64,
    /// Pairs classed Match, by their weight or by their cluster ([`super::dedupe`]).
    pub at_match: Prf,
    /// Pairs whose own weight reaches Match (the pairwise classes, without clusters).
    pub at_match_pairwise: Prf,
    /// The best F1 at any threshold on the pairs' own weights (every pair compared, by a
    /// blocking rule or inside a cluster), and that threshold.
    pub oracle: Prf,
    pub oracle_weight: f64,
    /// Share of the true pairs that blocking compares.
    pub blocking_recall: f64,
    /// Share of the true pairs compared at all: by blocking, or inside a cluster.
    pub compared_recall: f64,
    pub pairs_compared: u64,
    /// Pairs compared inside clusters that no blocking rule brings together.
    pub cluster_pairs: u64,
    pub seconds: f64,
    pub thresholds: Thresholds,
    pub lambda: f64,
}

/// The training configuration the hub uses for a register of `n` people.
pub fn hub_train_config(n: usize) -> TrainConfig {
    TrainConfig {
        random_pairs: 200_000.min(n.saturating_mul(20).max(1_000)),
        ..TrainConfig::default()
    }
}

/// How [`evaluate_link`] sets the prior.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkHow {
    /// As `match link` did before issue 16: the model trained on the register alone, its prior
    /// and thresholds the register's own.
    RegisterPrior,
    /// A [`LinkJob`]: trained on both sources, the prior estimated from them, the share of
    /// rows with a person in the register by kind of row.
    Job,
    /// A [`LinkJob`] with one share for every row ([`LinkOptions::share_by_kind`] off).
    OneShare,
}

/// Links the source to the register as `civreg-hub match link` does, and scores the result.
pub fn evaluate_link(set: &GenericSet, how: LinkHow) -> Result<LinkEval, LinkageError> {
    let token = crate::synth::eval::test_token;
    let register = set.register_records(token);
    let rows = set.source_records(token);
    evaluate_link_records(&register, &rows, &set.truth(), &set.source_corruptions, how)
}

/// [`evaluate_link`] for any register and rows: `truth[i]` is the register record of row `i`
/// (`None`: not in the register), `corruptions[i]` what was done to it (may be empty).
pub fn evaluate_link_records(
    register: &[PersonRecord],
    rows: &[PersonRecord],
    truth: &[Option<usize>],
    corruptions: &[Vec<Corruption>],
    how: LinkHow,
) -> Result<LinkEval, LinkageError> {
    let t0 = std::time::Instant::now();
    let (links, thresholds, lambda) = match how {
        LinkHow::RegisterPrior => {
            let model = Matcher::train(register, &hub_train_config(register.len()))?;
            let index = RegisterIndex::build(&model, register);
            let links = link_many(&model, &index, rows, 0);
            (links, model.thresholds, model.lambda)
        }
        LinkHow::Job | LinkHow::OneShare => {
            let opts = LinkOptions {
                share_by_kind: how == LinkHow::Job,
                ..LinkOptions::new(hub_train_config(register.len() + rows.len()))
            };
            let mut job = LinkJob::new(register, rows, &opts)?;
            let links = job.link_all(rows, 0);
            (links, job.prior.thresholds, job.prior.lambda)
        }
    };
    let seconds = t0.elapsed().as_secs_f64();
    let actual = truth.iter().filter(|t| t.is_some()).count() as u64;
    let (mut tp_m, mut pred_m, mut tp_p, mut pred_p) = (0u64, 0u64, 0u64, 0u64);
    let mut scored = Vec::new();
    let mut compared = 0u64;
    let mut by: std::collections::BTreeMap<Corruption, (u64, u64)> = Default::default();
    let no_corruptions = Vec::new();
    for (i, (l, t)) in links.iter().zip(truth).enumerate() {
        let ks = corruptions.get(i).unwrap_or(&no_corruptions);
        compared += l.compared as u64;
        let right = l.best.as_ref().is_some_and(|b| Some(b.index) == *t);
        if let Some(b) = &l.best {
            scored.push((b.score.weight, right));
        }
        match l.class {
            Class::Match => {
                pred_m += 1;
                tp_m += u64::from(right);
                pred_p += 1;
                tp_p += u64::from(right);
            }
            Class::Possible => {
                pred_p += 1;
                tp_p += u64::from(right);
            }
            Class::New => {}
        }
        if t.is_some() {
            for k in ks {
                let e = by.entry(*k).or_default();
                e.0 += 1;
                e.1 += u64::from(right && l.class == Class::Match);
            }
        }
    }
    let (oracle, oracle_weight) = oracle_f1(scored, actual);
    // Blocking recall: the rows whose true record shares a key with them under some rule.
    let n = register.len();
    let mut both = register.to_vec();
    both.extend(rows.iter().cloned());
    let pairs: Vec<(usize, usize)> = truth
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.map(|r| (r, n + i)))
        .collect();
    let blocked = super::first_rules(&both, &pairs)
        .iter()
        .filter(|r| r.is_some())
        .count();
    Ok(LinkEval {
        register: n,
        rows: rows.len(),
        at_match: Prf::new(tp_m, pred_m, actual),
        at_possible: Prf::new(tp_p, pred_p, actual),
        oracle,
        oracle_weight,
        blocking_recall: blocked as f64 / pairs.len().max(1) as f64,
        candidates_per_row: compared as f64 / rows.len().max(1) as f64,
        seconds,
        thresholds,
        lambda,
        by_corruption: by.into_iter().map(|(k, (a, b))| (k, a, b)).collect(),
    })
}

/// Deduplicates the register and the source as one file, as `civreg-hub match dedupe` does,
/// and scores the pairs against the truth (every pair of records of one person).
pub fn evaluate_dedupe(set: &GenericSet) -> Result<DedupeEval, LinkageError> {
    let token = crate::synth::eval::test_token;
    let mut records = set.register_records(token);
    records.extend(set.source_records(token));
    let mut entity: Vec<usize> = (0..set.register.len()).collect();
    entity.extend(set.source_entity.iter().copied());
    evaluate_dedupe_records(&records, &entity)
}

/// [`evaluate_dedupe`] for any records: `entity[i]` is the person record `i` is.
pub fn evaluate_dedupe_records(
    records: &[PersonRecord],
    entity: &[usize],
) -> Result<DedupeEval, LinkageError> {
    let mut sizes: std::collections::HashMap<usize, u64> = Default::default();
    for e in entity {
        *sizes.entry(*e).or_default() += 1;
    }
    let true_pairs: u64 = sizes.values().map(|c| c * (c - 1) / 2).sum();
    let t0 = std::time::Instant::now();
    let model = Matcher::train(records, &hub_train_config(records.len()))?;
    let thresholds = model.thresholds;
    let d = super::dedupe(&model, records, thresholds.possible.min(0.0) - 1_000.0);
    let seconds = t0.elapsed().as_secs_f64();
    let scored: Vec<(f64, bool)> = d
        .pairs
        .iter()
        .map(|p| (p.weight, entity[p.a] == entity[p.b]))
        .collect();
    let compared_true = scored.iter().filter(|s| s.1).count() as u64;
    let blocked_true = d
        .pairs
        .iter()
        .filter(|p| p.blocked && entity[p.a] == entity[p.b])
        .count() as u64;
    let (mut tp, mut pred, mut tp_w, mut pred_w) = (0u64, 0u64, 0u64, 0u64);
    for p in &d.pairs {
        let ok = u64::from(entity[p.a] == entity[p.b]);
        if p.is_match(thresholds.matched) {
            pred += 1;
            tp += ok;
        }
        if p.weight >= thresholds.matched {
            pred_w += 1;
            tp_w += ok;
        }
    }
    let (oracle, oracle_weight) = oracle_f1(scored, true_pairs);
    Ok(DedupeEval {
        records: records.len(),
        true_pairs,
        at_match: Prf::new(tp, pred, true_pairs),
        at_match_pairwise: Prf::new(tp_w, pred_w, true_pairs),
        oracle,
        oracle_weight,
        blocking_recall: blocked_true as f64 / true_pairs.max(1) as f64,
        compared_recall: compared_true as f64 / true_pairs.max(1) as f64,
        cluster_pairs: d.clusters.compared,
        pairs_compared: d.stats.pairs,
        seconds,
        thresholds,
        lambda: model.lambda,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_set_has_the_promised_shape() {
        let cfg = GenericConfig::new(7, 1_000);
        let a = GenericSet::generate(&cfg);
        assert_eq!(a.register.len(), 1_000);
        assert_eq!(a.source.len(), 1_000);
        let truth = a.truth();
        assert_eq!(truth.iter().filter(|t| t.is_some()).count(), 500);
        for (t, ks) in truth.iter().zip(&a.source_corruptions) {
            if t.is_some() {
                assert!((1..=3).contains(&ks.len()), "{ks:?}");
            }
        }
        // Seeded: the same configuration gives the same set.
        let b = GenericSet::generate(&cfg);
        assert_eq!(a.source, b.source);
        let own = GenericSet::generate(&GenericConfig {
            own_duplicates: 0.2,
            ..cfg
        });
        assert!(own.source.len() > 1_150 && own.source.len() < 1_250);
    }

    #[test]
    fn oracle_f1_finds_the_best_cut() {
        let (p, w) = oracle_f1(
            vec![(10.0, true), (9.0, true), (8.0, false), (7.0, true)],
            3,
        );
        assert_eq!(w, 7.0);
        assert!((p.f1 - 2.0 * 0.75 / 1.75).abs() < 1e-9);
    }
}
