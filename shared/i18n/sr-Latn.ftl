# civreg: katalog poruka, srpski (latinica).

app-title = Matične knjige
app-office = Kancelarija { $office }
lang-label = Jezik
lang-apply = Primeni
skip-to-main = Pređi na sadržaj

## Prijava
nav-home = Početak
nav-search = Pretraga
nav-register-birth = Upiši rođenje
nav-register-marriage = Upiši venčanje
nav-register-death = Upiši smrt
sign-in = Prijavi se
sign-in-title = Prijava u matične knjige
sign-out = Odjavi se
signed-in-as = Prijavljen kao { $clerk }
clerk-name = Ime službenika
password = Lozinka
sign-in-failed = Nepoznat službenik ili pogrešna lozinka. Pokušajte ponovo.
sign-in-throttled = Previše pogrešnih lozinki: prijava je odbijena na { $seconds } s. Pokušajte kasnije; ako ste zaboravili lozinku, tražite novu od administratora.
sign-in-busy = Previše prijava u isto vreme. Pokušajte ponovo za nekoliko sekundi.
signed-out = Odjavili ste se.
session-expired = Vaša sesija je istekla. Prijavite se ponovo.

## Statusna traka
status-title = Veza sa centrom
status-online = Na mreži
status-offline = Van mreže: rad se nastavlja i šalje se kada se veza vrati
status-not-enrolled = Nije upisano u centar
status-waiting = { $count ->
    [one] { $count } čeka
    [few] { $count } čekaju
   *[other] { $count } čeka
}
status-oldest = najstariji { $minutes } min
status-last-sync = poslednja sinhronizacija { $when }
status-never = još nije sinhronizovano
status-refused = Centar odbija ovu kancelariju: { $reason }. Pozovite agenciju.
status-halted = Ova kancelarija je prestala sa upisom: { $reason }. Pozovite agenciju.
status-cert-expires = Sertifikat kancelarije ističe za { $days } dana: tražite novi od agencije.
status-cert-expired = Sertifikat kancelarije je istekao: tražite novi od agencije.

## Početak
home-title = Danas u kancelariji
home-records = Upisa u ovoj kancelariji: { $count }
home-start = Šta želite da uradite?

## Obrasci
section-record = Upis
section-child = Dete
section-mother = Majka
section-father = Otac (nije obavezno)
section-register = Papirna matična knjiga (nije obavezno)
section-spouse1 = Prvi supružnik
section-spouse2 = Drugi supružnik
section-marriage = Venčanje
section-deceased = Preminuli
section-death = Smrt
section-numbers = Lični brojevi (nije obavezno)
f-given-name = Ime
f-surname = Prezime
f-maiden-surname = Devojačko prezime
f-father-given-name = Ime oca
f-date-of-birth = Datum rođenja
f-sex = Pol
sex-none = (nije navedeno)
sex-male = Muški
sex-female = Ženski
f-jmbg = JMBG
f-kosovo = Lični broj Kosova
f-albanian = Lični broj Albanije
f-place-of-birth = Mesto rođenja
f-book = Knjiga
f-year = Godina
f-page = Strana
f-entry = Redni broj
f-notes = Napomene
f-surname-before = Prezime pre venčanja
f-surname-after = Prezime posle venčanja
f-date-of-marriage = Datum venčanja
f-place-of-marriage = Mesto venčanja
f-date-of-death = Datum smrti
f-place-of-death = Mesto smrti
date-hint = npr. 14.03.1968 ili 1968-03-14
place-hint = Bilo koje ime mesta, bilo kojim pismom: Prishtinë, Priština, Приштина
place-known = { $place } ({ $code })
save = Sačuvaj
saved = Sačuvano kao { $regno }.
saved-warnings = Sačuvano sa upozorenjima.
form-problems = Upis nije sačuvan. Ispravite polja označena ispod.
form-warnings = Proverite upozorenja ispod. Da biste ipak sačuvali, označite polje i sačuvajte ponovo.
confirm-warnings = Proverio sam upozorenja i želim da sačuvam upis kakav jeste
form-already-saved = Ovaj obrazac je već sačuvan, kao { $regno }: nije upisan dva puta.
form-date = Napišite datum kao 14.03.1968 ili 1968-03-14.
form-number = Napišite ceo broj.
form-register-incomplete = Navedite knjigu, godinu, stranu i redni broj papirne knjige, ili ništa od toga.
form-shape = Upis nije mogao da se pročita: { $detail }
form-reason-required = Navedite razlog.
form-stale = Ovaj upis je promenjen otkako ste otvorili obrazac (sada verzija { $version }). Ništa nije sačuvano: pogledajte upis kakav je sada i ponovite izmenu.
jmbg-live-mismatch = JMBG se ne slaže sa upisanim datumom rođenja ili polom.

## Pretraga
search-title = Pretraga
search-label = Imena, godine, mesta ili lični broj
search-button = Traži
search-born = Godina rođenja (npr. 1968 ili 1960..1970)
search-municipality = Opština
search-kind = Vrsta
kind-any = bilo koja
search-local = Lokalni odgovor: samo upisi ove kancelarije.
search-national = Nacionalni odgovor: registar centra.
search-none = Ništa nije pronađeno.
search-count = { $count ->
    [one] Pronađen { $count } upis
    [few] Pronađena { $count } upisa
   *[other] Pronađeno { $count } upisa
}
search-not-here = Čuva se u centru, ne u ovoj kancelariji.
search-bad-born = Napišite godinu rođenja kao 1968, 1968-03-14 ili 1960..1970.
search-too-long = Pretraga je predugačka (najviše 12 reči): skratite je.

## Upisi
kind-birth = Rođenje
kind-marriage = Venčanje
kind-death = Smrt
record-title = Upis { $regno }
record-void = PONIŠTEN: { $reason }
record-fields = Polja
record-history = Istorija
record-version = Verzija { $version }
record-change-create = upisano
record-change-amend = izmenjeno
record-change-void = poništeno
record-change-annotate = zabeleženo
record-change-link = povezano
record-change-restore = vraćeno
record-by = službenik { $clerk }
record-reason = Razlog: { $reason }
record-sync = Sinhronizacija
record-sync-hub = U centru
record-sync-here = Sačuvano ovde, čeka centar
record-conflicts = Otvoreni sukobi: { $count }
record-amend = Izmeni
record-void-action = Poništi
amend-title = Izmena { $regno }
void-title = Poništavanje { $regno }
f-reason = Razlog
void-confirm = Poništi upis
amended = Izmenjeno.
voided = Poništeno.
no-change = Ništa nije promenjeno: upis je ostao isti.

## Greške
err-title = Nešto nije u redu
err-csrf = Obrazac je istekao ili nije došao iz ove aplikacije. Vratite se, ponovo učitajte stranu i pokušajte opet.
err-too-large = Poslato je preveliko (najviše { $kib } KiB). Ništa nije sačuvano.
err-not-found = Nije pronađeno: { $what }
err-bad-request = Zahtev nije mogao da se pročita: { $detail }
err-internal = Unutrašnja greška. Ništa nije izgubljeno; pokušajte ponovo i javite administratoru ako se ponavlja.
err-refused = Nije sačuvano: { $detail }
err-host = Ova aplikacija odgovara samo na imena za koja je podešena: otvorite je kao http://localhost:PORT ili pod podešenim imenom.
back-home = Nazad na početak

## Provera (po jedna za svaki kod iz shared::validate::ALL_CODES)
v-municipality-unknown = Nepoznata opština: izaberite jednu sa spiska.
v-name-required = Ime je obavezno.
v-name-characters = Ime sme da sadrži samo slova, bez cifara i znakova.
v-name-too-long = Ime je predugačko (najviše 100 slova).
v-text-too-long = Tekst je predugačak (najviše 2.000 slova).
v-place-required = Mesto je obavezno.
v-birth-date-required = Datum rođenja deteta je obavezan.
v-birth-sex-required = Pol deteta je obavezan.
v-date-future = Datum je u budućnosti.
v-death-before-birth = Datum smrti je pre datuma rođenja.
v-parent-too-young = Roditelj bi bio manje od 12 godina stariji od deteta: proverite oba datuma.
v-spouse-born-after-marriage = Supružnik je rođen posle venčanja: proverite oba datuma.
v-spouse-under-16 = Supružnik je imao manje od 16 godina pri venčanju.
v-spouse-under-18 = Supružnik je imao manje od 18 godina pri venčanju: proverite datume.
v-register-book-required = Knjiga je obavezna.
v-register-year-range = Godina knjige mora biti između 1900 i ove godine.
v-register-page = Strana mora biti broj od 1 naviše.
v-register-entry = Redni broj mora biti broj od 1 naviše.
v-register-year-before-event = Godina knjige je pre događaja koji beleži.
v-jmbg-length = JMBG ima 13 cifara.
v-jmbg-character = JMBG sadrži samo cifre.
v-jmbg-date = Prvih sedam cifara JMBG nisu pravi datum.
v-jmbg-region = Region u JMBG (cifre 8 i 9) nije u upotrebi.
v-jmbg-checksum = Kontrolna cifra JMBG nije ispravna: proverite broj u dokumentu.
v-jmbg-check-ten = Kontrolna cifra JMBG je 0 gde računanje daje 10: potvrdite broj u dokumentu.
v-jmbg-date-mismatch = JMBG se ne slaže sa datumom rođenja.
v-jmbg-sex-mismatch = JMBG se ne slaže sa polom.
v-jmbg-duplicate = Isti JMBG je naveden za dve osobe u upisu.
v-kosovo-length = Lični broj Kosova ima 10 cifara.
v-kosovo-character = Lični broj Kosova sadrži samo cifre.
v-kosovo-checksum = Poslednja cifra ličnog broja Kosova se ne slaže sa uobičajenom proverom: potvrdite je u dokumentu.
v-albanian-length = Lični broj Albanije je slovo, 8 cifara i slovo.
v-albanian-character = Lični broj Albanije je slovo, 8 cifara i slovo.
v-albanian-decade = Prvo slovo ličnog broja Albanije nije poznata decenija.
v-albanian-date = Lični broj Albanije ne sadrži pravi datum.
v-albanian-checksum = Kontrolno slovo ličnog broja Albanije nije ispravno.
v-albanian-date-mismatch = Lični broj Albanije se ne slaže sa datumom rođenja.
v-albanian-sex-mismatch = Lični broj Albanije se ne slaže sa polom.
v-op-record-id = Matični broj upisa nije ispravan.
v-op-kind = Vrsta upisa se ne slaže sa njegovim brojem.
v-op-too-many-changes = Previše polja se menja odjednom.
v-op-too-large = Izmena je prevelika.
v-op-clerk = Ime službenika nije ispravno.
v-op-reason-too-long = Razlog je predugačak.
v-op-changes = Izmena nije ispravna.
v-record-shape = Upis nije mogao da se pročita.
v-field-unknown = Nepoznato polje.
v-field-value = Vrednost nije ispravna za ovo polje.
v-field-required = Ovo polje je obavezno.
v-field-municipality = Opština upisa ne može da se menja.
v-annotation-path = Zabeleška nije ispravna.
v-annotation-office = Zabeleška pripada drugoj kancelariji.
v-annotation-incomplete = Zabeleška je nepotpuna.
v-annotation-event = Nepoznat događaj za zabelešku.
v-annotation-record = Broj upisa u zabelešci nije ispravan.

## Printing a certificate from the record page
cert-title = Štampanje izvoda
cert-lang = Jezik izvoda
cert-lang-sq = Albanski, pa srpski
cert-lang-sr = Srpski, pa albanski
cert-lang-en = Albanski i srpski, uz engleski
cert-collector = Ko preuzima (ime i prezime)
cert-collector-hint = Kako piše u ličnom dokumentu koji je pokazao. Ne upisujte broj dokumenta.
cert-id-document = Pokazani lični dokument
cert-id-id-card = Lična karta
cert-id-passport = Pasoš
cert-id-driving-licence = Vozačka dozvola
cert-id-residence-permit = Dozvola boravka
cert-id-other = Drugo
cert-print = Štampaj izvod (PDF)
cert-no-signer = Ova kancelarija još nema potpisnika dokumenata, pa ne može da štampa izvode. Zatražite ga od agencije.
cert-void = Upis je poništen: za njega se izvod ne izdaje.
cert-collector-required = Upišite ime osobe koja preuzima izvod, kako piše u njenom dokumentu, bez posebnih znakova.
cert-id-required = Izaberite vrstu pokazanog ličnog dokumenta.
cert-lang-required = Izaberite jezik izvoda.
cert-printed = Odštampani izvodi
cert-serial = Serijski broj
cert-when = Kada
cert-by = Službenik
cert-for = Za
cert-version = Verzija upisa
cert-none = Još nijedan izvod nije odštampan.

## The duplicate check before saving a birth or death
dupes-title = Možda je već upisano
dupes-intro = Ovi upisi liče na onaj koji unosite. Ako je ista osoba, otvorite postojeći upis; inače potvrdite da je ovo novi upis.
dupes-count = { $count ->
    [one] { $count } sličan upis
    [few] { $count } slična upisa
   *[other] { $count } sličnih upisa
}
dupes-typed = Ono što ste uneli
dupes-record = Upis
dupes-people = Osobe
dupes-open = Otvori postojeći upis
dupes-new = Druga je osoba: sačuvaj kao novi upis
record-dupes-checked = Provereno zbog duplikata: { $regnos } su bili slični; službenik je potvrdio novi upis.

## Today's work on the start page
today-title = Današnji rad
today-summary = Unosa danas: { $count }. Čeka slanje agenciji: { $waiting }.
today-mine = Moji
today-office = Ostali u ovoj kancelariji
today-time = Vreme
today-change = Šta
today-clerk = Službenik

## Noting an event on a birth record (annotation)
annotate-title = Beleška o događaju
annotate-heading = Beleška o događaju na upisu { $regno }
annotate-intro = Beleška upisuje na izvod rođenja brak, smrt ili razvod upisan negde drugde. Ne menja nijedno polje samog upisa.
annotate-link = Zabeleži događaj
annotate-event = Događaj
annotate-event-marriage = Brak
annotate-event-death = Smrt
annotate-event-divorce = Razvod
annotate-event-other = Drugo
annotate-date = Datum događaja
annotate-place = Mesto događaja
annotate-record = Broj upisa događaja
annotate-record-hint = Broj upisa braka ili smrti, ako je upisan.
annotate-text = Napomena
annotate-save = Sačuvaj belešku
annotate-sent = Beleška je sačuvana. Šalje se agenciji pri sledećoj sinhronizaciji.
annotate-event-required = Izaberite događaj.
annotate-not-known = Ovaj upis ovde nije poznat: prvo ga pronađite nacionalnom pretragom dok veza radi, pa zabeležite događaj iz odgovora.
annotate-bad-regno = Ovo nije broj upisa.
annotated = Beleška je sačuvana.

## Importing a CSV of register pages
import-title = Uvoz CSV
import-intro = Izaberite CSV datoteku sa stranama matične knjige (kolone kao za `civreg-node import`; razdvajač , ; ili tab; datumi kao 14.03.1968). Do { $mib } MiB. Odbijeni redovi se prikazuju ovde sa brojem reda i razlozima; ništa se ne uvozi dvaput.
import-file = CSV datoteka
import-start = Uvezi
import-busy = Uvoz u toku…
import-line = Red
import-reasons = Razlozi
import-download = Preuzmi izveštaj
import-noscript = Ova strana traži JavaScript; inače koristite `civreg-node import`.
import-summary = Redova: { $rows }. Uvezeno: { $accepted }. Već uvezeno ranije: { $skipped }. Odbijeno: { $rejected }.
import-too-large = Datoteka je veća od { $mib } MiB: podelite je na više datoteka.
import-empty = Datoteka je prazna.
import-not-csv = Ovo nije CSV (tekstualna) datoteka: sačuvajte je kao CSV i pokušajte ponovo.
import-unreadable = Datoteka ne može da se pročita: { $detail }

# ---- dupes (session 11): the duplicate check scored by the linkage model, side by side ----
dupes-caption = Ono što ste uneli pored svakog pronađenog upisa, polje po polje
dupes-field = Polje
dupes-typed-new = Novi upis
dupes-none = nije navedeno
dupes-f-father = Ime oca
dupes-f-mother = Ime majke
dupes-f-mother-maiden = Devojačko prezime majke
dupes-f-pnum = Lični broj
dupes-f-municipality = Upisano u
dupes-strength-match = Vrlo verovatno ista osoba
dupes-strength-possible = Možda ista osoba
dupes-strength-same-number = Isti lični broj, ostali podaci se razlikuju
dupes-strength-unscored = Premalo se zna za poređenje
dupes-partial = Vodi se u drugoj kancelariji: ovde se znaju samo imena te datum i mesto rođenja; ostala polja nisu poređena.
dupes-m-agree = Slaže se
dupes-m-agree-spelling = Slaže se (drugi pravopis ili pismo)
dupes-m-sounds = Blizu: isto zvuči
dupes-m-typo = Blizu: jedna greška u kucanju
dupes-m-swapped = Blizu: ime i prezime zamenjeni
dupes-m-other-surname = Blizu: odgovara ranijem prezimenu
dupes-m-date-swapped = Blizu: dan i mesec zamenjeni
dupes-m-digit = Blizu: razlikuje se jedna cifra
dupes-m-same-year = Blizu: ista godina
dupes-m-year-apart = Blizu: godinu dana razlike
dupes-m-close = Blizu
dupes-m-differ = Razlikuje se
dupes-m-unknown = Nije poređeno: nedostaje na jednoj strani
