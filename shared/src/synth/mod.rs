//! Synthetic but realistic register data, from a fixed seed, with the truth kept apart.
//!
//! Two generators share the name lists and samplers here:
//!
//! * [`Gen`]: independent records for one office (the node benchmark's data). Every call to
//!   [`Gen::record`] gives one birth, marriage or death; nothing links the records.
//! * [`population::Population`]: a streaming register of all 38 municipalities with families
//!   (the child of one record marries in a later one, the couple's children are born in later
//!   ones, people die), and **corrupted duplicates** whose corruptions and original are recorded
//!   in a [`population::Truth`] kept beside each record. This is the data the identity matcher
//!   ([`crate::linkage`]) is trained and measured on.
//!
//! [`write`] writes records as the node importer's CSV and the truth as JSON lines.
//!
//! Names: Albanian and Serbian given names and surnames, each list ordered from common to rare and
//! drawn with a Zipf-like skew (so Krasniqi, Gashi, Berisha, Morina, Shala and Hoxha dominate),
//! the long tail extended with patronymic surnames derived from given names (Adem → Ademi,
//! Ademaj; Jovan → Jovanović; Sava → Savić), as real Kosovo surnames are. About 15% of families
//! are Serbian, two thirds of them typed in Cyrillic (≈10% of all records).
//!
//! [`Gen`] records: 80% births (child, mother with maiden surname, father, grandfather's name),
//! 12% marriages, 8% deaths; dates of birth of the principals 1945–2025; places from the
//! gazetteer (Prishtinë two thirds of the time); register references unique per kind, book, page
//! and entry; valid JMBGs (correct check digit, matching date and sex) on 30% of records and
//! valid Kosovo personal numbers on 10%. Every record passes validation without errors.
//!
//! Both generators are deterministic: the same seed gives the same records, byte for byte, on
//! any day (the latest date generated is the fixed [`LATEST`], not today).

pub mod corrupt;
pub mod eval;
pub mod population;
pub mod write;

use crate::gazetteer;
use crate::model::RecordKind;
use crate::pnum::{jmbg_check_digit, kosovo_check_digit, JmbgCheck};
use chrono::{Datelike, Duration, NaiveDate};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};

/// The latest date any generator writes: a fixed day, so that output does not depend on the
/// clock (and is never in the future for the validator).
pub const LATEST: NaiveDate = match NaiveDate::from_ymd_opt(2025, 12, 31) {
    Some(d) => d,
    None => panic!("2025-12-31 is a date"),
};

/// splitmix64: tiny, fast, and good enough for test data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    pub fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            xs.swap(i, j);
        }
    }
}

/// Draws ranks `0..n` with probability ∝ 1 / (rank + 1)^s.
#[derive(Debug, Clone)]
pub struct Zipf {
    cum: Vec<f64>,
}

impl Zipf {
    pub fn new(n: usize, s: f64) -> Zipf {
        let mut acc = 0.0;
        let cum = (0..n)
            .map(|i| {
                acc += 1.0 / ((i + 1) as f64).powf(s);
                acc
            })
            .collect();
        Zipf { cum }
    }

    pub fn sample(&self, rng: &mut Rng) -> usize {
        let total = *self.cum.last().expect("non-empty");
        let u = rng.unit() * total;
        self.cum
            .partition_point(|&c| c <= u)
            .min(self.cum.len() - 1)
    }

    /// The probability of rank `i`.
    pub fn share(&self, i: usize) -> f64 {
        let total = *self.cum.last().expect("non-empty");
        let prev = if i == 0 { 0.0 } else { self.cum[i - 1] };
        (self.cum[i] - prev) / total
    }
}

// ---- name lists, most common first ---------------------------------------------------------

#[rustfmt::skip]
const SQ_SURNAMES: &[&str] = &[
    "Krasniqi", "Gashi", "Berisha", "Morina", "Shala", "Hoxha", "Bytyqi", "Kastrati", "Hasani",
    "Rexhepi", "Ahmeti", "Kryeziu", "Thaçi", "Zeqiri", "Mustafa", "Rama", "Hyseni", "Sylejmani",
    "Osmani", "Salihu", "Halili", "Ismaili", "Bajrami", "Haxhiu", "Limani", "Jashari", "Shabani",
    "Selimi", "Beqiri", "Mehmeti", "Avdiu", "Ibrahimi", "Kelmendi", "Hajdari", "Maloku", "Sopi",
    "Latifi", "Hoti", "Bislimi", "Dervishi", "Musliu", "Ramadani", "Qerimi", "Kurteshi", "Zymberi",
    "Veseli", "Rrustemi", "Behrami", "Elezi", "Fazliu", "Gjonbalaj", "Hamiti", "Imeri", "Jakupi",
    "Kabashi", "Lushtaku", "Mazreku", "Nuhiu", "Pllana", "Qorri", "Rugova", "Sadiku", "Tahiri",
    "Uka", "Vitia", "Xhemaili", "Ymeri", "Zogaj", "Abdullahu", "Bekteshi", "Çeku", "Daci", "Emini",
    "Feka", "Gërguri", "Hajrizi", "Istrefi", "Jonuzi", "Kadriu", "Lleshi", "Mulaku", "Nimani",
    "Pacolli", "Qela", "Rexha", "Syla", "Tërnava", "Ukaj", "Vllasi", "Xhafa", "Ylli", "Zhubi",
    "Aliu", "Bejta", "Cana", "Demaku", "Ferati", "Gashaj", "Hajdini", "Isufi", "Jusufi", "Kuqi",
    "Lajçi", "Mehmetaj", "Neziri", "Osmanaj", "Prekazi", "Qorraj", "Rashiti", "Shehu", "Tmava",
    "Uruçi", "Vokshi", "Zhitia", "Ademi", "Bunjaku", "Curri", "Dragusha", "Fetahu", "Gërxhaliu",
    "Hyseni", "Islami", "Kqiku", "Lokaj", "Mjeku", "Nushi", "Olluri", "Përvetica", "Rrahmani",
    "Shatri", "Topalli", "Vula", "Xërxa", "Zajmi", "Azemi", "Blakaj", "Çitaku", "Dedaj", "Fejza",
    "Gecaj", "Hoxhaj", "Idrizi", "Kolgeci", "Lekaj", "Maliqi", "Nikçi", "Palushi", "Qosja",
    "Rexhaj", "Shkodra", "Thaqi", "Visoka", "Zeka", "Agushi", "Baftiu", "Dobruna", "Gjinovci",
    "Hasku", "Kurti", "Luma", "Mirena", "Nura", "Pula", "Rexhbeqaj", "Sahiti", "Tafa", "Vehapi",
    "Zullufi",
];

#[rustfmt::skip]
const SR_SURNAMES: &[&str] = &[
    "Petrović", "Jovanović", "Đorđević", "Nikolić", "Stojanović", "Ilić", "Marković", "Pavlović",
    "Popović", "Stanković", "Milošević", "Todorović", "Ristić", "Kostić", "Mitić", "Denić",
    "Trajković", "Vasić", "Simić", "Stevanović", "Lazić", "Živković", "Janković", "Milenković",
    "Tasić", "Đokić", "Radić", "Savić", "Perić", "Mladenović", "Jović", "Krstić", "Lukić", "Arsić",
    "Veljković", "Cvetković", "Bogdanović", "Vuković", "Dimitrijević", "Filipović", "Gligorijević",
    "Ivanović", "Jevtić", "Kovačević", "Lazarević", "Mihajlović", "Obradović", "Pešić", "Rakić",
    "Spasić", "Tomić", "Urošević", "Vučković", "Zdravković", "Antić", "Božović", "Ćirić", "Dačić",
    "Đurić", "Ðukić", "Grujić", "Hadžić", "Jakšić", "Knežević", "Ljubić", "Maksimović", "Nešić",
    "Obrenović", "Prokić", "Radovanović", "Stojković", "Tošić", "Vidojević", "Zlatković", "Aleksić",
    "Bošković", "Čolić", "Dragić", "Gajić", "Isaković", "Jeremić", "Kocić", "Lalić", "Matić",
    "Nedeljković", "Pantić", "Ranđelović", "Šaponjić", "Trifunović", "Vesić",
];

#[rustfmt::skip]
const SQ_MALE: &[&str] = &[
    "Arben", "Besnik", "Driton", "Ilir", "Fatmir", "Agron", "Bekim", "Valon", "Artan", "Ardian",
    "Arianit", "Blerim", "Burim", "Dardan", "Gent", "Granit", "Kushtrim", "Labinot", "Lulzim",
    "Mentor", "Naim", "Petrit", "Shpend", "Visar", "Valmir", "Ylber", "Florent", "Liridon",
    "Festim", "Armend", "Alban", "Adem", "Ahmet", "Bajram", "Halil", "Hasan", "Hysen", "Ismail",
    "Osman", "Ramadan", "Rexhep", "Salih", "Shaban", "Sylejman", "Ymer", "Zeqir", "Mustafë", "Isa",
    "Musa", "Jakup", "Qazim", "Xhemajl", "Fehmi", "Hamdi", "Shkëlzen", "Rrustem", "Mehmet", "Selim",
    "Beqir", "Bislim", "Latif", "Avdyl", "Idriz", "Rifat", "Nexhat", "Skënder", "Agim", "Bujar",
    "Enver", "Fadil", "Gani", "Hajdar", "Ilaz", "Kadri", "Lutfi", "Muhamet", "Nazmi", "Qëndrim",
    "Rrahman", "Sabit", "Tahir", "Ukë", "Zenel", "Dren", "Erion", "Leutrim", "Endrit", "Diar",
    "Rinor", "Eron", "Lorik", "Jon", "Drin", "Arlind", "Blendi", "Dukagjin", "Edon", "Fisnik",
    "Gëzim", "Hekuran", "Ibrahim", "Jeton", "Kreshnik", "Lavdim", "Mërgim", "Nderim", "Pajtim",
    "Rilind", "Sami", "Taulant", "Vullnet", "Xhevdet", "Yll", "Zef", "Azem", "Behxhet", "Çerkin",
    "Demë", "Emin", "Fazli", "Gzim", "Hajriz", "Isuf", "Jusuf", "Kujtim", "Lekë", "Mehdi", "Nuhi",
    "Pjetër", "Ramiz", "Sadik", "Tefik", "Ukshin", "Veli", "Xhafer", "Zijadin", "Abaz", "Bedri",
    "Daut", "Elez", "Feriz", "Gjon", "Hamëz", "Imer", "Kamer", "Lulëzim", "Mahmut", "Nezir",
    "Qamil", "Ragip", "Sejdi", "Tafil", "Uran",
];

#[rustfmt::skip]
const SQ_FEMALE: &[&str] = &[
    "Drita", "Vjosa", "Fatime", "Shqipe", "Mimoza", "Teuta", "Valbona", "Blerta", "Arta", "Besa",
    "Flutura", "Hana", "Lumnije", "Mirlinda", "Nora", "Qëndresa", "Rina", "Saranda", "Shpresa",
    "Vlora", "Albana", "Ardita", "Burbuqe", "Donika", "Era", "Fitore", "Gentiana", "Hyrije",
    "Igballe", "Jehona", "Kaltrina", "Lindita", "Merita", "Nazlie", "Njomza", "Pranvera", "Rukije",
    "Sevdije", "Shkurte", "Valdete", "Xhevahire", "Zana", "Zyrafete", "Afërdita", "Bukurije",
    "Drenusha", "Elira", "Fjolla", "Ganimete", "Hatixhe", "Lirije", "Mihrije", "Nexhmije",
    "Remzije", "Sabrije", "Shehide", "Tringa", "Vesa", "Ylberina", "Zeqije", "Adelina", "Bardha",
    "Dafina", "Edona", "Fatmire", "Gresa", "Hajrije", "Ilirjana", "Jetmira", "Kimete", "Leonora",
    "Majlinda", "Nita", "Pajtime", "Rrezarta", "Sara", "Trëndelina", "Uranë", "Violeta", "Xheneta",
    "Yllka", "Zejnepe", "Agnesa", "Bahrie", "Diellza", "Egzona", "Fexhrije", "Gonxhe", "Hava",
    "Ismete", "Jeta", "Kosovare", "Luljeta", "Medina", "Nafije", "Nurije", "Qamile", "Rabije",
    "Sebahate", "Time", "Valentina", "Xhemile", "Zahide", "Anisa", "Blerina", "Dhurata", "Elmaze",
    "Florije", "Gjyljeta", "Hidajete", "Kadrije", "Lumturije", "Makfire", "Naxhije", "Rexhepe",
    "Safete", "Shemsije", "Vera", "Zyhra",
];

#[rustfmt::skip]
const SR_MALE: &[&str] = &[
    "Petar", "Jovan", "Nikola", "Marko", "Stefan", "Milan", "Dragan", "Zoran", "Goran", "Dejan",
    "Nenad", "Miloš", "Aleksandar", "Đorđe", "Nemanja", "Dušan", "Vladimir", "Slobodan", "Srđan",
    "Bojan", "Ivan", "Miroslav", "Predrag", "Radovan", "Momčilo", "Ljubiša", "Živko", "Stojan",
    "Dragoljub", "Branislav", "Vuk", "Lazar", "Luka", "Filip", "Uroš", "Vukašin", "Milutin",
    "Obrad", "Rade", "Sava", "Stanko", "Todor", "Velimir", "Zlatko", "Radomir", "Bogdan", "Čedomir",
    "Dimitrije", "Đura", "Gojko", "Ilija", "Jevrem", "Ljubomir", "Mihajlo", "Nebojša", "Obren",
    "Pavle", "Rajko", "Sreten", "Tihomir", "Vojislav", "Željko", "Andrija", "Boško", "Danilo",
    "Grujica", "Jakov", "Kosta", "Mladen", "Novak", "Ranko", "Spasoje", "Trajko", "Veljko",
    "Zdravko",
];

#[rustfmt::skip]
const SR_FEMALE: &[&str] = &[
    "Ljiljana", "Milica", "Jelena", "Ana", "Marija", "Dragana", "Snežana", "Gordana", "Biljana",
    "Svetlana", "Vesna", "Jasmina", "Nataša", "Tijana", "Jovana", "Ivana", "Mirjana", "Danijela",
    "Slavica", "Zorica", "Radmila", "Olivera", "Stanislava", "Dušica", "Desanka", "Vera", "Zagorka",
    "Milena", "Jadranka", "Kristina", "Sanja", "Tamara", "Katarina", "Nevena", "Anđela", "Sofija",
    "Teodora", "Đurđa", "Bosiljka", "Cveta", "Dobrila", "Gorica", "Jagoda", "Ljubica", "Mila",
    "Nada", "Olga", "Persa", "Ružica", "Stana", "Vukosava", "Živana", "Branka", "Dragica",
    "Jovanka", "Kosana", "Leposava", "Mirosava", "Nevenka", "Smilja",
];

/// Long-tail Albanian surnames from male given names (Adem → Ademi, Ademaj).
fn sq_patronymics() -> Vec<String> {
    let mut out = Vec::new();
    for g in SQ_MALE {
        let base = g.trim_end_matches('ë');
        let last = base.chars().last().unwrap_or('a');
        if "aeiouy".contains(last) {
            continue;
        }
        out.push(format!("{base}i"));
        out.push(format!("{base}aj"));
    }
    out
}

/// Long-tail Serbian surnames from male given names (Jovan → Jovanović, Sava → Savić,
/// Đorđe → Đorđević, Petar → Petrović).
fn sr_patronymics() -> Vec<String> {
    let mut out = Vec::new();
    for g in SR_MALE {
        let s = if let Some(b) = g.strip_suffix('a') {
            format!("{b}ić")
        } else if let Some(b) = g.strip_suffix('e') {
            format!("{b}ević")
        } else if let Some(b) = g.strip_suffix("ar") {
            format!("{b}rović")
        } else if let Some(b) = g.strip_suffix('o') {
            format!("{b}ović")
        } else if ["j", "č", "ć", "š", "ž", "đ"]
            .iter()
            .any(|e| g.ends_with(e))
        {
            format!("{g}ević")
        } else {
            format!("{g}ović")
        };
        out.push(s);
    }
    out
}

/// Appends `extra` names not already present.
fn extend_unique(base: &[&str], extra: Vec<String>) -> Vec<String> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    for n in base.iter().map(|s| s.to_string()).chain(extra) {
        if seen.insert(n.clone()) {
            out.push(n);
        }
    }
    out
}

/// Serbian Latin → Serbian Cyrillic, as a clerk typing in Cyrillic would write the name.
pub fn to_cyrillic(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() * 2);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let upper = c.is_uppercase();
        let lc = c.to_lowercase().next().unwrap_or(c);
        let next = chars
            .get(i + 1)
            .map(|n| n.to_lowercase().next().unwrap_or(*n));
        let (cyr, step) = match (lc, next) {
            ('l', Some('j')) => ('љ', 2),
            ('n', Some('j')) => ('њ', 2),
            ('d', Some('ž')) => ('џ', 2),
            _ => {
                let m = match lc {
                    'a' => 'а',
                    'b' => 'б',
                    'c' => 'ц',
                    'č' => 'ч',
                    'ć' => 'ћ',
                    'd' => 'д',
                    'đ' | 'ð' => 'ђ',
                    'e' => 'е',
                    'f' => 'ф',
                    'g' => 'г',
                    'h' => 'х',
                    'i' => 'и',
                    'j' => 'ј',
                    'k' => 'к',
                    'l' => 'л',
                    'm' => 'м',
                    'n' => 'н',
                    'o' => 'о',
                    'p' => 'п',
                    'r' => 'р',
                    's' => 'с',
                    'š' => 'ш',
                    't' => 'т',
                    'u' => 'у',
                    'v' => 'в',
                    'z' => 'з',
                    'ž' => 'ж',
                    other => other,
                };
                (m, 1)
            }
        };
        if upper {
            out.extend(cyr.to_uppercase());
        } else {
            out.push(cyr);
        }
        i += step;
    }
    out
}

/// An Albanian name as a Serbian clerk writes it in Serbian Latin (`Krasniqi → Krasnići`,
/// `Xhevdet → Dževdet`, `Shala → Šala`, `Gjergj → Đerđ`, `Thaçi → Tači`, `Ylli → Ili`), so that
/// [`to_cyrillic`] can then write it in Cyrillic.
pub fn albanian_to_serbian(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 4);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let upper = c.is_uppercase();
        let lc = c.to_lowercase().next().unwrap_or(c);
        let next = chars
            .get(i + 1)
            .map(|n| n.to_lowercase().next().unwrap_or(*n));
        let (lat, step): (&str, usize) = match (lc, next) {
            ('s', Some('h')) => ("š", 2),
            ('z', Some('h')) => ("ž", 2),
            ('x', Some('h')) => ("dž", 2),
            ('g', Some('j')) => ("đ", 2),
            ('d', Some('h')) => ("d", 2),
            ('t', Some('h')) => ("t", 2),
            ('l', Some('l')) => ("l", 2),
            ('r', Some('r')) => ("r", 2),
            ('q', _) => ("ć", 1),
            ('ç', _) => ("č", 1),
            ('ë', _) => ("e", 1),
            ('y', _) => ("i", 1),
            ('x', _) => ("dz", 1),
            _ => {
                out.push(c);
                i += 1;
                continue;
            }
        };
        let mut it = lat.chars();
        if let Some(first) = it.next() {
            if upper {
                out.extend(first.to_uppercase());
            } else {
                out.push(first);
            }
        }
        out.extend(it);
        i += step;
    }
    out
}

/// What the query generator needs to know about a record's principal person.
#[derive(Debug, Clone)]
pub struct Facts {
    pub kind: RecordKind,
    /// As typed in the record (Cyrillic for Cyrillic records).
    pub given: String,
    pub surname: String,
    /// The same names in Latin script.
    pub given_latin: String,
    pub surname_latin: String,
    /// Rank of the surname in its list (0 = most common) and the list's length.
    pub surname_rank: usize,
    pub surname_list_len: usize,
    pub serbian: bool,
    pub cyrillic: bool,
    pub dob: Option<NaiveDate>,
    pub place_text: String,
    /// A personal number of the principal, if the record carries one.
    pub pnum: Option<String>,
    /// Filled in once the record is saved.
    pub regno: Option<String>,
}

/// One generated record.
#[derive(Debug, Clone)]
pub struct Synth {
    pub kind: RecordKind,
    pub doc: Value,
    pub facts: Facts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sex {
    Male,
    Female,
}

impl Sex {
    pub(crate) fn word(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }
}

/// A name in a given script, plus its Latin form and the surname's rank.
#[derive(Debug, Clone)]
pub(crate) struct Name {
    pub(crate) text: String,
    pub(crate) latin: String,
}

/// One family's naming conventions: Albanian, Serbian in Latin, or Serbian in Cyrillic.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Culture {
    pub(crate) serbian: bool,
    pub(crate) cyrillic: bool,
}

pub struct Gen {
    pub(crate) rng: Rng,
    sq_surnames: Vec<String>,
    sr_surnames: Vec<String>,
    sq_surname_z: Zipf,
    sr_surname_z: Zipf,
    sq_male_z: Zipf,
    sq_female_z: Zipf,
    sr_male_z: Zipf,
    sr_female_z: Zipf,
    /// Latest date generated: no later than today (the validator refuses future dates).
    pub(crate) cap: NaiveDate,
    pub(crate) earliest: NaiveDate,
    /// Next entry number per (register letter, year).
    entries: HashMap<(char, i32), u32>,
    jmbgs: HashSet<String>,
    kosovo_next: u64,
}

/// Zipf exponent of surnames: the top six Albanian surnames take about a quarter of Albanian families.
pub const SURNAME_S: f64 = 0.8;
/// Zipf exponent of given names: milder than surnames.
pub const GIVEN_S: f64 = 0.7;

impl Gen {
    pub fn new(seed: u64) -> Gen {
        let sq_surnames = extend_unique(SQ_SURNAMES, sq_patronymics());
        let sr_surnames = extend_unique(SR_SURNAMES, sr_patronymics());
        let cap = LATEST;
        Gen {
            rng: Rng::new(seed),
            sq_surname_z: Zipf::new(sq_surnames.len(), SURNAME_S),
            sr_surname_z: Zipf::new(sr_surnames.len(), SURNAME_S),
            sq_male_z: Zipf::new(SQ_MALE.len(), GIVEN_S),
            sq_female_z: Zipf::new(SQ_FEMALE.len(), GIVEN_S),
            sr_male_z: Zipf::new(SR_MALE.len(), GIVEN_S),
            sr_female_z: Zipf::new(SR_FEMALE.len(), GIVEN_S),
            sq_surnames,
            sr_surnames,
            cap,
            earliest: NaiveDate::from_ymd_opt(1945, 1, 1).expect("date"),
            entries: HashMap::new(),
            jmbgs: HashSet::new(),
            kosovo_next: 10_000_000 + (seed % 1_000) * 100_000,
        }
    }

    /// (number of Albanian surnames, number of Serbian surnames, given names in all).
    pub fn list_sizes(&self) -> (usize, usize, usize) {
        (
            self.sq_surnames.len(),
            self.sr_surnames.len(),
            SQ_MALE.len() + SQ_FEMALE.len() + SR_MALE.len() + SR_FEMALE.len(),
        )
    }

    /// The most common Albanian surnames with their share of Albanian families.
    pub fn top_surnames(&self, n: usize) -> Vec<(String, f64)> {
        (0..n.min(self.sq_surnames.len()))
            .map(|i| (self.sq_surnames[i].clone(), self.sq_surname_z.share(i)))
            .collect()
    }

    pub(crate) fn render(&self, c: Culture, latin: &str) -> Name {
        Name {
            text: if c.cyrillic {
                to_cyrillic(latin)
            } else {
                latin.to_string()
            },
            latin: latin.to_string(),
        }
    }

    pub(crate) fn surname(&mut self, c: Culture) -> (Name, usize, usize) {
        let (list, z) = if c.serbian {
            (&self.sr_surnames, &self.sr_surname_z)
        } else {
            (&self.sq_surnames, &self.sq_surname_z)
        };
        let r = z.sample(&mut self.rng);
        let latin = list[r].clone();
        let len = list.len();
        (self.render(c, &latin), r, len)
    }

    pub(crate) fn given(&mut self, c: Culture, sex: Sex) -> Name {
        let (list, z): (&[&str], &Zipf) = match (c.serbian, sex) {
            (false, Sex::Male) => (SQ_MALE, &self.sq_male_z),
            (false, Sex::Female) => (SQ_FEMALE, &self.sq_female_z),
            (true, Sex::Male) => (SR_MALE, &self.sr_male_z),
            (true, Sex::Female) => (SR_FEMALE, &self.sr_female_z),
        };
        let latin = list[z.sample(&mut self.rng)];
        self.render(c, latin)
    }

    pub(crate) fn culture(&mut self) -> Culture {
        let serbian = self.rng.chance(0.15);
        Culture {
            serbian,
            cyrillic: serbian && self.rng.chance(2.0 / 3.0),
        }
    }

    pub(crate) fn sex(&mut self) -> Sex {
        if self.rng.chance(0.5) {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    pub(crate) fn date_between(&mut self, lo: NaiveDate, hi: NaiveDate) -> NaiveDate {
        let span = (hi - lo).num_days().max(0);
        lo + Duration::days(self.rng.between(0, span))
    }

    /// A date `years_lo..=years_hi` years (plus some days) before `d`.
    pub(crate) fn years_before(&mut self, d: NaiveDate, years_lo: i64, years_hi: i64) -> NaiveDate {
        let y = self.rng.between(years_lo, years_hi);
        d - Duration::days(y * 365 + y / 4 + self.rng.between(0, 364))
    }

    /// A place of the event: the node's municipality two times in three, else any other.
    fn place(&mut self, c: Culture) -> (&'static str, String) {
        let all = gazetteer::all();
        let m = if self.rng.chance(2.0 / 3.0) {
            gazetteer::by_code("prishtine").expect("prishtine")
        } else {
            self.rng.pick(all)
        };
        let text = if c.cyrillic {
            m.name_sr_cyrl
        } else if c.serbian {
            m.name_sr_latn
        } else {
            m.name_sq
        };
        (m.code, text.to_string())
    }

    fn jmbg(&mut self, dob: NaiveDate, sex: Sex, place: &str) -> String {
        let region = if place == "prishtine" {
            91
        } else {
            self.rng.between(92, 96)
        };
        loop {
            let serial = match sex {
                Sex::Male => self.rng.below(500),
                Sex::Female => 500 + self.rng.below(500),
            };
            let body = format!(
                "{:02}{:02}{:03}{region:02}{serial:03}",
                dob.day(),
                dob.month(),
                dob.year().rem_euclid(1000)
            );
            let mut d = [0u8; 12];
            for (x, b) in d.iter_mut().zip(body.bytes()) {
                *x = b - b'0';
            }
            if let JmbgCheck::Digit(k) = jmbg_check_digit(&d) {
                let j = format!("{body}{k}");
                if self.jmbgs.insert(j.clone()) {
                    return j;
                }
            }
        }
    }

    pub(crate) fn kosovo(&mut self) -> String {
        self.kosovo_next += 1 + self.rng.below(7);
        let first9 = format!("1{:08}", self.kosovo_next % 100_000_000);
        let mut d = [0u8; 9];
        for (x, b) in d.iter_mut().zip(first9.bytes()) {
            *x = b - b'0';
        }
        format!("{first9}{}", kosovo_check_digit(&d))
    }

    /// Personal numbers of a principal: a JMBG 30% of the time, a Kosovo number 10%.
    fn numbers(
        &mut self,
        dob: Option<NaiveDate>,
        sex: Sex,
        place: &str,
    ) -> (Value, Option<String>) {
        let mut m = Map::new();
        let mut first = None;
        if let Some(dob) = dob {
            if self.rng.chance(0.30) {
                let j = self.jmbg(dob, sex, place);
                first = Some(j.clone());
                m.insert("jmbg".into(), j.into());
            }
        }
        if self.rng.chance(0.10) {
            let k = self.kosovo();
            first.get_or_insert(k.clone());
            m.insert("kosovo".into(), k.into());
        }
        (Value::Object(m), first)
    }

    /// A unique register reference: book per kind and year, 15 entries a page.
    pub(crate) fn register(&mut self, kind: RecordKind, event_year: i32) -> Value {
        let letter = match kind {
            RecordKind::Birth => 'L',
            RecordKind::Marriage => 'K',
            RecordKind::Death => 'V',
        };
        // Most entries are written in the year of the event, some the year after.
        let year = if self.rng.chance(0.1) {
            (event_year + 1).min(self.cap.year())
        } else {
            event_year
        };
        let k = self.entries.entry((letter, year)).or_insert(0);
        let n = *k;
        *k += 1;
        json!({
            "book": format!("{letter}-{year}"),
            "year": year,
            "page": n / 15 + 1,
            "entry": n % 15 + 1,
        })
    }

    pub(crate) fn common(
        &mut self,
        doc: &mut Map<String, Value>,
        kind: RecordKind,
        event_year: i32,
    ) {
        if self.rng.chance(0.9) {
            doc.insert("register".into(), self.register(kind, event_year));
        }
        if self.rng.chance(0.03) {
            doc.insert(
                "notes".into(),
                format!("Entered from the {event_year} register; margin note illegible.").into(),
            );
        }
    }

    pub fn record(&mut self) -> Synth {
        let r = self.rng.unit();
        if r < 0.80 {
            self.birth()
        } else if r < 0.92 {
            self.marriage()
        } else {
            self.death()
        }
    }

    fn birth(&mut self) -> Synth {
        let c = self.culture();
        let (surname, rank, len) = self.surname(c);
        let sex = self.sex();
        let given = self.given(c, sex);
        let dob = self.date_between(self.earliest, self.cap);
        let (place_code, place_text) = self.place(c);
        let (nums, pnum) = self.numbers(Some(dob), sex, place_code);

        let father_given = self.given(c, Sex::Male);
        let mut child = json!({
            "given_name": given.text,
            "surname": surname.text,
            "sex": sex.word(),
            "date_of_birth": dob.to_string(),
        });
        if self.rng.chance(0.5) {
            child["father_given_name"] = father_given.text.clone().into();
        }
        if nums.as_object().is_some_and(|m| !m.is_empty()) {
            child["personal_numbers"] = nums;
        }

        let (maiden, _, _) = loop {
            let m = self.surname(c);
            if m.0.latin != surname.latin {
                break m;
            }
        };
        let mother_given = self.given(c, Sex::Female);
        let mut mother = json!({ "given_name": mother_given.text });
        if self.rng.chance(0.9) {
            mother["surname"] = surname.text.clone().into();
            mother["maiden_surname"] = maiden.text.into();
        } else {
            mother["surname"] = maiden.text.into();
        }
        if self.rng.chance(0.85) {
            mother["date_of_birth"] = self.years_before(dob, 18, 42).to_string().into();
        }

        let mut doc = Map::new();
        self.common(&mut doc, RecordKind::Birth, dob.year());
        doc.insert("child".into(), child);
        doc.insert("place_of_birth".into(), place_text.clone().into());
        doc.insert("mother".into(), mother);
        if self.rng.chance(0.95) {
            let mut father = json!({
                "given_name": father_given.text,
                "surname": surname.text,
            });
            if self.rng.chance(0.7) {
                father["father_given_name"] = self.given(c, Sex::Male).text.into();
            }
            if self.rng.chance(0.7) {
                father["date_of_birth"] = self.years_before(dob, 20, 50).to_string().into();
            }
            doc.insert("father".into(), father);
        }
        Synth {
            kind: RecordKind::Birth,
            doc: Value::Object(doc),
            facts: Facts {
                kind: RecordKind::Birth,
                given: given.text,
                surname: surname.text,
                given_latin: given.latin,
                surname_latin: surname.latin,
                surname_rank: rank,
                surname_list_len: len,
                serbian: c.serbian,
                cyrillic: c.cyrillic,
                dob: Some(dob),
                place_text,
                pnum,
                regno: None,
            },
        }
    }

    fn marriage(&mut self) -> Synth {
        let c = self.culture();
        let (groom_dob, bride_dob, wed) = loop {
            let g = self.date_between(
                self.earliest,
                NaiveDate::from_ymd_opt(2002, 12, 31).expect("date"),
            );
            let b = g + Duration::days(self.rng.between(-3 * 365, 8 * 365));
            let older = g.min(b);
            let younger = g.max(b);
            let wed = younger + Duration::days(self.rng.between(19 * 365, 35 * 365));
            if wed <= self.cap && older >= NaiveDate::from_ymd_opt(1925, 1, 1).expect("date") {
                break (g, b, wed);
            }
        };
        let (surname, rank, len) = self.surname(c);
        let (bride_before, _, _) = self.surname(c);
        let groom_given = self.given(c, Sex::Male);
        let bride_given = self.given(c, Sex::Female);
        let (place_code, place_text) = self.place(c);
        let (nums, pnum) = self.numbers(Some(groom_dob), Sex::Male, place_code);
        let mut spouse1 = json!({
            "given_name": groom_given.text,
            "surname_before": surname.text,
            "surname_after": surname.text,
            "sex": "male",
            "date_of_birth": groom_dob.to_string(),
        });
        if nums.as_object().is_some_and(|m| !m.is_empty()) {
            spouse1["personal_numbers"] = nums;
        }
        if self.rng.chance(0.6) {
            spouse1["father_given_name"] = self.given(c, Sex::Male).text.into();
        }
        let after = if self.rng.chance(0.85) {
            surname.text.clone()
        } else {
            bride_before.text.clone()
        };
        let mut spouse2 = json!({
            "given_name": bride_given.text,
            "surname_before": bride_before.text,
            "surname_after": after,
            "sex": "female",
            "date_of_birth": bride_dob.to_string(),
        });
        if self.rng.chance(0.6) {
            spouse2["father_given_name"] = self.given(c, Sex::Male).text.into();
        }
        let mut doc = Map::new();
        self.common(&mut doc, RecordKind::Marriage, wed.year());
        doc.insert("spouse1".into(), spouse1);
        doc.insert("spouse2".into(), spouse2);
        doc.insert("date_of_marriage".into(), wed.to_string().into());
        doc.insert("place_of_marriage".into(), place_text.clone().into());
        Synth {
            kind: RecordKind::Marriage,
            doc: Value::Object(doc),
            facts: Facts {
                kind: RecordKind::Marriage,
                given: groom_given.text,
                surname: surname.text,
                given_latin: groom_given.latin,
                surname_latin: surname.latin,
                surname_rank: rank,
                surname_list_len: len,
                serbian: c.serbian,
                cyrillic: c.cyrillic,
                dob: Some(groom_dob),
                place_text,
                pnum,
                regno: None,
            },
        }
    }

    fn death(&mut self) -> Synth {
        let c = self.culture();
        let sex = self.sex();
        let (dob, dod) = loop {
            let dob = self.date_between(
                NaiveDate::from_ymd_opt(1900, 1, 1).expect("date"),
                NaiveDate::from_ymd_opt(1990, 12, 31).expect("date"),
            );
            let dod = dob + Duration::days(self.rng.between(25 * 365, 100 * 365));
            if dod <= self.cap && dod.year() >= 1945 {
                break (dob, dod);
            }
        };
        let with_dob = self.rng.chance(0.85);
        let (surname, rank, len) = self.surname(c);
        let given = self.given(c, sex);
        let (place_code, place_text) = self.place(c);
        let mut deceased = json!({
            "given_name": given.text,
            "surname": surname.text,
            "sex": sex.word(),
        });
        let mut pnum = None;
        if with_dob {
            deceased["date_of_birth"] = dob.to_string().into();
            let (nums, p) = self.numbers(Some(dob), sex, place_code);
            if nums.as_object().is_some_and(|m| !m.is_empty()) {
                deceased["personal_numbers"] = nums;
                pnum = p;
            }
        }
        if sex == Sex::Female && self.rng.chance(0.7) {
            let (m, _, _) = self.surname(c);
            if m.latin != surname.latin {
                deceased["maiden_surname"] = m.text.into();
            }
        }
        if self.rng.chance(0.6) {
            deceased["father_given_name"] = self.given(c, Sex::Male).text.into();
        }
        let mut doc = Map::new();
        self.common(&mut doc, RecordKind::Death, dod.year());
        doc.insert("deceased".into(), deceased);
        doc.insert("date_of_death".into(), dod.to_string().into());
        doc.insert("place_of_death".into(), place_text.clone().into());
        Synth {
            kind: RecordKind::Death,
            doc: Value::Object(doc),
            facts: Facts {
                kind: RecordKind::Death,
                given: given.text,
                surname: surname.text,
                given_latin: given.latin,
                surname_latin: surname.latin,
                surname_rank: rank,
                surname_list_len: len,
                serbian: c.serbian,
                cyrillic: c.cyrillic,
                dob: with_dob.then_some(dob),
                place_text,
                pnum,
                regno: None,
            },
        }
    }
}

/// The CSV columns `civreg-node import` reads: `kind` and every field path the generators write.
/// `municipality` is empty for [`Gen`]'s records (the importing node fills in its own).
pub const CSV_COLUMNS: &[&str] = &[
    "kind",
    "municipality",
    "register.book",
    "register.year",
    "register.page",
    "register.entry",
    "notes",
    "child.given_name",
    "child.surname",
    "child.sex",
    "child.date_of_birth",
    "child.father_given_name",
    "child.personal_numbers.jmbg",
    "child.personal_numbers.kosovo",
    "place_of_birth",
    "mother.given_name",
    "mother.surname",
    "mother.maiden_surname",
    "mother.date_of_birth",
    "father.given_name",
    "father.surname",
    "father.father_given_name",
    "father.date_of_birth",
    "spouse1.given_name",
    "spouse1.surname_before",
    "spouse1.surname_after",
    "spouse1.father_given_name",
    "spouse1.sex",
    "spouse1.date_of_birth",
    "spouse1.personal_numbers.jmbg",
    "spouse1.personal_numbers.kosovo",
    "spouse2.given_name",
    "spouse2.surname_before",
    "spouse2.surname_after",
    "spouse2.father_given_name",
    "spouse2.sex",
    "spouse2.date_of_birth",
    "spouse2.personal_numbers.jmbg",
    "spouse2.personal_numbers.kosovo",
    "date_of_marriage",
    "place_of_marriage",
    "deceased.given_name",
    "deceased.surname",
    "deceased.maiden_surname",
    "deceased.father_given_name",
    "deceased.sex",
    "deceased.date_of_birth",
    "deceased.personal_numbers.jmbg",
    "deceased.personal_numbers.kosovo",
    "date_of_death",
    "place_of_death",
];
