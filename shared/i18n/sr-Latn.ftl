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
status-hub = centar u upotrebi: { $host }
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
unvoid-title = Zatražite od agencije vraćanje upisa { $regno }
unvoid-confirm = Pošalji zahtev
unvoid-asked = Zahtev ide agenciji sa sledećom sinhronizacijom.
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
v-name-illegible = Ime sme da se označi kao nečitko samo u centralnom uvozu istorijskih stranica registra: unesite ime kako je napisano.
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

## Task upload (session 11): CSV import progress, rows' reasons in the clerk's language
import-r-field = { $field }: { $problem }
import-r-cells = Red ima { $cells } ćelija, a zaglavlje { $columns } kolona: nedostaje ili je višak razdvajač, ili je red presečen?
import-r-kind = Vrsta "{ $value }" nije birth, marriage ni death.
import-r-number = "{ $value }" nije ceo broj.
import-r-value = vrednost ne može da se pročita: proverite je (datumi kao 14.03.1968 ili 1968-03-14, pol kao male ili female).
import-r-municipality = Ova kancelarija upisuje samo akte opštine { $own }, a red navodi { $given }.
import-r-unreadable = Red ne može da se pročita: proverite navodnike i sačuvajte datoteku kao CSV UTF-8.
import-r-double = Moguć dvostruki upis: isti kao red { $line } i bez podataka o matičnoj knjizi; uvezen je, proverite stranu matične knjige.
import-r-already = Već uvezeno kao { $regno }.
import-r-repeated = Isti upis u matičnu knjigu (knjiga, godina, strana, upis) kao u ranijem redu ove datoteke.
import-running = Uvoz je već u toku u ovoj kancelariji (pokrenuo ga je { $clerk }, pročitano redova: { $read }): sačekajte da se završi, pa uvezite ovu datoteku.
import-job-gone = Ovaj uvoz više nije poznat (izveštaji se čuvaju jedan sat): uvezite datoteku ponovo; redovi koji su već uvezeni se preskaču.
import-status = Stanje
import-status-rejected = Odbijen
import-status-check = Uvezen kao { $regno }, proverite
import-status-skipped = Uvezen ranije
import-reading = Pročitano redova: { $read } od { $total }
import-counting = Broje se redovi datoteke…
import-sending = Šalje se datoteka: { $percent }%
import-lost = Veza sa aplikacijom kancelarije je prekinuta: ponovo učitajte stranu i uvezite datoteku ponovo; ništa se ne uvozi dvaput.
import-unlisted = Izveštaj navodi samo prvih { $listed } redova svake vrste; ostali su prebrojani u rezimeu. Ispravite ove redove i uvezite datoteku ponovo.
import-h-none = Datoteka nema red zaglavlja: prvi red mora da imenuje kolone (kind, child.given_name, …).
import-h-no-kind = Zaglavlje nema kolonu kind (navodi { $found }): dodajte je, sa birth, marriage ili death za svaki red.
import-h-unknown = Nijedna kolona zaglavlja nije poznata (navodi { $found }): očekuju se kind i polja kao child.given_name; razdvajač mora biti , ; ili tab.
import-h-twice = Zaglavlje dvaput navodi kolonu { $column }: uklonite jednu.
import-h-bad-column = Kolona { $column } nije poznato polje: pogledajte kolone uvoza (README, "Bulk import").
## Operaterski panel centrale (zadatak dash: svaka stranica panela iz kataloga)
dash-app = civreg centrala
dash-nav = Panel
dash-nav-overview = Pregled
dash-nav-conflicts = Konflikti
dash-nav-duplicates = Duplikati
dash-nav-rollout = Uvođenje
dash-nav-metrics = Metrike
dash-signed-in-as = prijavljen kao
dash-sign-out = Odjava
dash-back-overview = Nazad na pregled
dash-signin-title = Prijava
dash-signin-name = Operater
dash-signin-password = Lozinka
dash-signin-submit = Prijavi se
dash-signin-no-accounts = Još ne postoji nijedan nalog operatera: napravite ga na računaru centrale komandom
dash-signin-expired = Obrazac za prijavu je istekao: pokušajte ponovo.
dash-signin-wrong = pogrešno ime operatera ili lozinka
dash-signin-impossible = prijava nije moguća: { $detail }
dash-signin-busy = previše prijava odjednom: pokušajte ponovo za minut
dash-signin-throttled = Previše pogrešnih lozinki: prijava je odbijena na { $secs } s. Pokušajte kasnije.
dash-signin-throttled-hint = Ako ste zaboravili lozinku, zatražite novu:
dash-err-title = Nešto nije u redu
dash-err-not-found = Nije pronađeno
dash-err-forbidden = Odbijeno
dash-err-conflict = Već urađeno
dash-err-bad-request = Proverite obrazac
dash-err-busy = Zauzeto
dash-err-csrf = odbijeno: obrazac je istekao ili nije došao sa ovog panela; ponovo učitajte stranicu i pokušajte opet
dash-err-internal = unutrašnja greška: { $detail }
dash-err-access-log = dnevnik pristupa nije mogao da se upiše, pa se upisi ne prikazuju: { $detail }
dash-err-no-node = centrala ne poznaje čvor { $node }
dash-err-no-conflict = nema konflikta { $id }: spisak konflikata prikazuje otvorene
dash-err-conflict-resolved = konflikt { $id } je već razrešen, razrešio { $by }
dash-err-conflict-reason = odluka zahteva razlog: čuva se sa istorijom upisa
dash-err-conflict-invalid = sa tom vrednošću upis { $regno } ne bi bio ispravan: { $why }
dash-err-no-case = nema slučaja duplikata { $id }: spisak duplikata ih prikazuje
dash-err-case-decided = slučaj { $id } je već rešen: { $status }, { $by }
dash-err-case-not-linked = slučaj { $id } nije povezan: samo povezan slučaj može da se razdvoji
dash-err-choose-side = izaberite A, B ili drugu vrednost, pa zabeležite odluku
dash-err-choose-decision = izaberite povezivanje, odbacivanje ili razdvajanje, pa zabeležite odluku
dash-err-decision-reason = navedite razlog: svaka odluka se čuva sa svojim razlogom u istoriji slučaja
dash-err-unknown-stage = nepoznata faza { $stage }: izaberite planirano, pilot, aktivno ili obustavljeno
dash-err-stage-reason = promena faze zahteva razlog: čuva se u dnevniku uvođenja
dash-err-unknown-municipality = nepoznata opština { $code }: izaberite jednu sa spiska (kodovi kao u pregledu, npr. prishtine)
dash-dur-s = { $n } s
dash-dur-min = { $n } min
dash-dur-h = { $n } č
dash-dur-days = { $n ->
    [one] { $n } dan
   *[other] { $n } dana
}
dash-ago = pre { $ago }
dash-seen-ago = viđen pre { $ago }
dash-never-seen = nikad viđen
dash-never = nikad
dash-by = ({ $name })
dash-ops = { $n ->
    [one] { $n } operacija
    [few] { $n } operacije
   *[other] { $n } operacija
}
dash-oldest = najstarija { $ago }
dash-lag = kašnjenje { $ago }
dash-op = operacija { $op }
dash-open = otvoren
dash-record = upis { $id }
dash-reason-is = razlog: { $reason }
dash-resolved-by = razrešio { $name }
dash-no-node = nema čvora
dash-cert-expired = istekao
dash-cert-in-days = { $days ->
    [one] za { $days } dan
   *[other] za { $days } dana
}
dash-stage-planned = planirano
dash-stage-pilot = pilot
dash-stage-live = aktivno
dash-stage-suspended = obustavljeno
dash-state-revoked = opozvan
dash-state-expired = sertifikat istekao
dash-state-forked = razgranat
dash-state-online = na vezi
dash-state-offline = ne dopire do centrale
dash-state-never = nikad se nije javio
dash-kind-birth = rođenje
dash-kind-marriage = brak
dash-kind-death = smrt
dash-col-municipality = Opština
dash-col-stage = Faza
dash-col-nodes = Čvorovi
dash-col-waiting = Operacije na čekanju
dash-col-acked = Potvrđeno, kašnjenje
dash-col-conflicts = Otvoreni konflikti
dash-col-duplicates = Otvoreni duplikati
dash-col-cert = Najbliži istek sertifikata
dash-col-refusal = Odbijanje uvođenja
dash-col-clock = Sat
dash-col-attention = Pažnja
dash-col-record = Upis
dash-col-field = Polje
dash-col-state = Stanje
dash-now-title = Čeka vas sada
dash-now-all-well = Ništa vas sada ne čeka: svaka kancelarija u pilotu ili aktivna dopire do centrale, nijedan red nije zaglavljen, ništa nije odbijeno i ne čeka nijedan konflikt, duplikat ni sertifikat.
dash-now-municipalities = Opštine
dash-now-waiting = { $n } na čekanju
dash-now-rule = Kancelarija "ne dopire do centrale" kada propusti dva svoja kruga sinhronizacije (kancelarije starijih verzija: bez znaka života { $window }). Operacije na čekanju su onako kako ih je prebrojao poslednji znak života kancelarije.
dash-now-refresh = Ova stranica se ponovo učitava svakih { $secs } s; ažurirano { $updated }.
dash-now-updated = Ažurirano { $updated }.
dash-refresh-pause = Ne učitavaj više ovu stranicu svakih { $secs } s
dash-refresh-resume = Učitavaj ovu stranicu svakih { $secs } s
dash-now-last-heard = poslednji put se javio pre { $ago }
dash-now-revoked = { $node }: sertifikat opozvan
dash-now-expired = { $node }: sertifikat istekao
dash-now-expired-detail = ne može da se sinhronizuje dok se ponovo ne upiše
dash-now-halted = { $node } je prestao da upisuje
dash-now-refused = { $node } odbijen: { $why }
dash-now-refused-detail = pre { $ago }, do njegovog sledećeg uspešnog kruga
dash-now-blocked = { $node } blokiran na operaciji #{ $seq } ({ $record })
dash-now-blocked-detail = trajno odbijena; pogledajte `civreg-hub refused`
dash-now-not-reaching = { $node } ne dopire do centrale
dash-now-not-reaching-detail = { $seen }; propustio je dva kruga (svakih { $every })
dash-now-queue = { $node }: { $n } operacija na čekanju, najstarija { $ago }
dash-now-queue-detail = centrala ima do #{ $seq }
dash-now-queue-heartbeat = (prema njegovom znaku života pre { $ago })
dash-now-cert-expires = { $node }: sertifikat ističe { $days ->
    [one] za { $days } dan
   *[other] za { $days } dana
}
dash-now-cert-on = dana { $date }
dash-now-conflicts = { $n ->
    [one] { $n } konflikt za razrešavanje
   *[other] { $n } konflikata za razrešavanje
}
dash-now-duplicates = { $n ->
    [one] { $n } mogući duplikat za pregled
   *[other] { $n } mogućih duplikata za pregled
}
dash-now-unvoid = { $n ->
    [one] { $n } zahtev službenika za vraćanje poništenog upisa čeka odgovor
    [few] { $n } zahteva službenika za vraćanje poništenog upisa čekaju odgovor
   *[other] { $n } zahteva službenika za vraćanje poništenog upisa čeka odgovor
}
dash-now-unvoid-detail = Odgovorite na svaki na stranici zahteva za vraćanje (ili sa `civreg-hub unvoid-request`).
dash-now-backup-failed = { $node }: poslednja rezervna kopija nije uspela
dash-now-backup-overdue = { $node } nije napravio rezervnu kopiju već { $ago }
dash-now-backup-overdue-detail = Kancelarije prave jednu dnevno: proverite disk za kopije u kancelariji (tamo `civreg-node status`). Navodi se posle { $hours } sati bez kopije.
dash-now-hub-backup-failed = Poslednja rezervna kopija centra nije uspela (pre { $ago }): ponovo pokrenite `civreg-hub backup --out DIR` kada se uzrok otkloni
dash-now-rollover = Zamena CA je u toku od { $since }: kancelarija samo sa starim CA: { $n }
dash-now-rollover-detail = { $offices }. Zatražite njihovu obnovu (`civreg-hub pki require-renewal`); vidite `civreg-hub pki rollover status`.
dash-now-rollover-hub = Zamena CA od { $since }: sve kancelarije su na novom CA, ali centar i dalje predstavlja sertifikat starog CA
dash-now-rollover-hub-detail = Pripremite sertifikat novog CA sa `civreg-hub pki renew-hub --stage`, zatim ga aktivirajte sa `--activate`.
dash-now-rollover-finish = Zamena CA od { $since } je spremna za završetak
dash-now-rollover-finish-detail = Završite je sa `civreg-hub pki rollover finish`: stari CA se povlači.
dash-now-rollover-finish-operators = Završite je sa `civreg-hub pki rollover finish`; sertifikati ovih operatera tada prestaju da važe: { $operators }
dash-now-hub-staged = Novi sertifikat centra (važi do { $until }) je pripremljen i još se ne predstavlja
dash-now-hub-staged-detail = Kancelarije se o njemu obaveštavaju sinhronizacijom; aktivirajte ga sa `civreg-hub pki renew-hub --activate`.
dash-nav-unvoid = Zahtevi za vraćanje
dash-unvoid-title = Zahtevi službenika za vraćanje poništenog upisa
dash-unvoid-intro = Službenik je poništio upis i traži da se vrati. Odobrenje vraća upis unosom u dnevnik centra, koji stiže do kancelarija sa njihovom sledećom sinhronizacijom; odbijanje ga ostavlja poništenim. U oba slučaja kancelarija čita vaš razlog.
dash-unvoid-done-granted = Odobreno: upis { $regno } je vraćen; kancelarija { $office } ga dobija sa sledećom sinhronizacijom.
dash-unvoid-done-refused = Odbijeno: kancelarija { $office } čita vaš razlog sa sledećom sinhronizacijom; upis { $regno } ostaje poništen.
dash-unvoid-none = Nijedan zahtev ne čeka odgovor.
dash-unvoid-count = { $n ->
    [one] { $n } zahtev čeka odgovor.
    [few] { $n } zahteva čekaju odgovor.
   *[other] { $n } zahteva čeka odgovor.
}
dash-unvoid-shown = Prikazano je prvih { $n }; odgovorite na njih i ponovo učitajte stranicu za ostale.
dash-unvoid-record = Upis { $regno }
dash-unvoid-record-col = Upis
dash-unvoid-office = Kancelarija
dash-unvoid-clerk = Službenik
dash-unvoid-reason = Razlog službenika
dash-unvoid-asked = Zatraženo
dash-unvoid-waiting = (čeka { $ago })
dash-unvoid-your-reason = Vaš razlog (kancelarija ga čita)
dash-unvoid-reason-hint = Obavezno, najviše 500 znakova, na primer gde to potvrđuje papirni registar.
dash-unvoid-grant = Odobri: vrati upis
dash-unvoid-refuse = Odbij: ostavi poništen
dash-unvoid-answered = Odgovoreno u poslednjih { $days } dana
dash-unvoid-none-answered = Nijedan zahtev nije odgovoren u tom periodu.
dash-unvoid-answer = Odgovor
dash-unvoid-state-pending = čeka
dash-unvoid-state-granted = odobren
dash-unvoid-state-refused = odbijen
dash-unvoid-command = Na komandnoj liniji centra:
dash-unvoid-not-recorded = Nije odgovoreno
dash-unvoid-back = Zahtevi za vraćanje
dash-err-unvoid-choose = izaberite Odobri ili Odbij
dash-err-unvoid-none = ne postoji zahtev za vraćanje { $id }: vratite se na listu i izaberite neki odatle
dash-err-unvoid-reason = navedite razlog: kancelarija ga čita uz odgovor
dash-err-unvoid-reason-long = razlog ima { $n } znakova; čuva se najviše { $max }: skratite ga
dash-err-unvoid-answered = na zahtev za vraćanje { $id } je već odgovoreno ({ $state }): ništa nije urađeno
dash-err-unvoid-not-void = upis { $regno } više nije poništen u centru (vraćen posle zahteva?): odbijte zahtev i navedite to
dash-err-unvoid-no-record = centar nema upis { $regno }: odbijte zahtev i navedite to
dash-overview-every = Sve opštine
dash-hubs = Centri
dash-hubs-none = Nema liste centara u konfiguraciji (hub_urls): paketi za upis nose adresu datu sa --hub-url.
dash-overview-summary = Opštine kojima je sada potrebna pažnja: { $bad }; koje treba pogledati: { $warn }.
dash-trouble-halted = { $node } je prestao da upisuje: { $why }
dash-trouble-refused = { $node } odbijen od strane uvođenja
dash-trouble-blocked = { $node } blokiran: operacija #{ $seq } ({ $record }) trajno odbijena; pogledajte `civreg-hub refused`
dash-trouble-revoked = { $node }: sertifikat opozvan
dash-trouble-not-reaching = { $node } ne dopire do centrale
dash-trouble-never = { $node } se nikad nije javio
dash-trouble-waiting = { $node } ima { $n } operacija na čekanju
dash-trouble-clock = { $node }: sat nije tačan
dash-trouble-cert-expired = { $node }: sertifikat istekao
dash-trouble-cert-expires = { $node }: sertifikat ističe { $days ->
    [one] za { $days } dan
   *[other] za { $days } dana
}
dash-trouble-conflicts = otvorenih konflikata: { $n }
dash-trouble-duplicates = otvorenih duplikata: { $n }
dash-node-title = Čvor { $node }
dash-node-last-seen = Poslednji put viđen
dash-node-version = Verzija
dash-node-acked = Poslednja potvrđena operacija
dash-node-waiting = Operacije na čekanju
dash-node-clock = Odstupanje sata
dash-node-disk = Slobodan disk
dash-node-cert = Sertifikat
dash-node-cert-expires = ističe { $date }
dash-node-cert-serial = serijski broj { $serial }
dash-node-cert-none = nema aktivnog sertifikata
dash-node-interval = Interval sinhronizacije
dash-node-interval-window = ne dopire do centrale posle { $window } bez znaka života
dash-node-interval-untold = čvor ga nije javio
dash-node-last-day = Poslednji dan
dash-node-chart-help = Stubići: operacije koje je centrala potvrdila po satu. Linija: kašnjenje (starost najstarije operacije na čekanju). Mereno svakih { $every } i čuvano u bazi podataka centrale: ponovno pokretanje ostavlja prazninu, ne prazan grafikon ({ $samples } merenja do sada).
dash-node-errors = Poslednje greške i odbijanja
dash-node-halted = prestao da upisuje: { $why }
dash-node-no-errors = nijedna otkako je centrala pokrenuta
dash-node-blocked = Blokiran
dash-node-blocked-why = Centrala trajno odbija operaciju #{ $seq } (upis { $record }): { $why }
dash-node-blocked-help = Sve što je ova kancelarija sačuvala posle nje čeka. Pošto pročita razlog sa kancelarijom, operater može da stavi operaciju po strani (heš { $hash }):
dash-node-aside = Operacije stavljene po strani
dash-node-aside-item = operaciju #{ $seq } stavio po strani { $by } dana { $at }: { $reason }
dash-chart-label = potvrđene operacije po satu i kašnjenje, poslednja 24 sata
dash-chart-bar = potvrđenih operacija: { $n }, kašnjenje { $lag }
dash-chart-not-sampled = nije mereno
dash-chart-ops = operacije/sat (najviše { $max })
dash-chart-lag = kašnjenje (najviše { $max })
dash-chart-day-ago = pre 24 č
dash-chart-now = sada
dash-conflicts-open = Otvoreni konflikti
dash-conflicts-all = Svi konflikti
dash-conflicts-open-of = Otvoreni konflikti: { $m }
dash-conflicts-all-of = Svi konflikti: { $m }
dash-conflicts-open-only = Samo otvoreni
dash-conflicts-include-resolved = Uključi i razrešene
dash-conflicts-none = Nema konflikata.
dash-conflicts-a = A (zadržano za sada)
dash-conflicts-back = Svi otvoreni konflikti
dash-conflict = Konflikt
dash-conflict-record = Upis
dash-conflict-field = polje
dash-conflict-explain = dve kancelarije su ga upisale a da nisu videle izmenu one druge.
dash-conflict-a-head = A: zadržano za sada (kasniji upis)
dash-conflict-b-head = B: stavljeno po strani
dash-conflict-side = upisao { $clerk } na čvoru { $node } (operacija { $op })
dash-conflict-resolved-by = Razrešio
dash-conflict-resolve-as = Razrešite, kao { $name }
dash-conflict-keep-a = Zadrži A
dash-conflict-keep-b = Zadrži B
dash-conflict-keep-a-void = Zadrži A (poništenje)
dash-conflict-keep-b-edit = Zadrži B (izmenu: vrati upis)
dash-conflict-other = Druga vrednost
dash-conflict-other-value = Ta druga vrednost
dash-conflict-reason = Razlog (čuva se sa istorijom upisa)
dash-conflict-submit = Zabeleži odluku
dash-dups-open = Otvoreni duplikati
dash-dups-all = Svi slučajevi duplikata
dash-dups-open-of = Otvoreni duplikati: { $m }
dash-dups-all-of = Svi slučajevi duplikata: { $m }
dash-dups-intro = Parovi osoba za koje je upoređivač našao da su verovatno ista osoba, u registru i među mogućim poklapanjima uvoza. Otvorite slučaj da uporedite oba upisa, pa ih povežite (jedan identifikator osobe) ili odbacite slučaj (različite osobe). Najjači prvi.
dash-dups-command = Registar se proverava na duplikate komandom
dash-dups-every-municipality = sve opštine
dash-dups-include-decided-box = uključi rešene slučajeve
dash-dups-show = Prikaži
dash-dups-none = Nijedan duplikat ne čeka pregled.
dash-dups-none-all = Nema slučajeva duplikata.
dash-dups-count = { $n ->
    [one] { $n } slučaj.
   *[other] { $n } slučajeva.
}
dash-dups-case = Slučaj
dash-dups-weight = Težina
dash-dups-probability = Verovatnoća
dash-dups-class = Klasa
dash-dups-found-by = Našao
dash-dups-a = A (u registru)
dash-dups-b = B (nađen kao njegov duplikat)
dash-dups-municipalities = Opštine
dash-dups-filed = Zaveden
dash-dups-open-only = Samo otvoreni slučajevi
dash-dups-include-decided = Uključi rešene slučajeve
dash-dups-back = Svi otvoreni duplikati
dash-ill-heading = Osobe uvezene bez imena
dash-ill-intro = Centralni uvoz je preuzeo ove osobe bez imena: ime se ne može pročitati na stranici registra. Neka se stranica ponovo pročita i kancelarija unese ime; osoba nestaje sa ovog spiska čim zapis ima ime.
dash-ill-count = { $n ->
    [one] { $n } osoba čeka; prikazano { $shown }.
   *[other] { $n } osoba čeka; prikazano { $shown }.
}
dash-ill-record = Zapis
dash-ill-person = Osoba
dash-ill-surname = Prezime
dash-ill-source = Uvezeno iz
dash-ill-line = { $file }, red { $line }
dash-ill-by = Uvezao
dash-dup-title = Slučaj duplikata
dash-dup-status-open = otvoren
dash-dup-status-linked = povezan
dash-dup-status-dismissed = odbačen
dash-dup-status-unlinked = razdvojen
dash-dup-status-withdrawn = povučen
dash-dup-found = Upoređivač ({ $source }) je našao da su ovo verovatno ista osoba:
dash-dup-weight = težina
dash-dup-probability = verovatnoća { $p } %
dash-dup-class = klasa
dash-dup-filed = Zaveden { $at }; opštine { $ms }.
dash-dup-person = Osoba
dash-dup-role = Uloga
dash-dup-pid = Identifikator osobe
dash-dup-voided = poništio { $clerk }: { $reason }
dash-dup-same = A i B imaju isti identifikator osobe: to je jedna osoba.
dash-dup-different = A i B imaju različite identifikatore osobe. Redovi koji se razlikuju su istaknuti.
dash-dup-records = Dva upisa
dash-dup-people = Osobe i njihovi identifikatori
dash-dup-linked-by = povezao { $clerk } (operacija { $op })
dash-dup-decisions = Odluke
dash-dup-no-decisions = Još nijedna.
dash-dup-decision = Odluka
dash-dup-operator = Operater
dash-dup-when = Kada
dash-dup-reason = Razlog
dash-dup-ops = Operacije
dash-dup-decided-open = Ponovo otvorio
dash-dup-decided-linked = Povezao
dash-dup-decided-dismissed = Odbacio
dash-dup-decided-unlinked = Razdvojio
dash-dup-decided-withdrawn = Povukao centar pri razdvajanju koje je uradio
dash-dup-decide-as = Odlučite, kao { $name }
dash-dup-reason-label = Razlog (čuva se u istoriji slučaja i u operaciji povezivanja)
dash-dup-link = Poveži: jedna osoba
dash-dup-dismiss = Odbaci: različite osobe
dash-dup-unlink = Razdvoji: B ponovo dobija svoj identifikator
dash-dup-closed = Ovaj slučaj je rešen; ovde se s njim ne može više ništa uraditi.
dash-dup-not-recorded = Nije zabeleženo
dash-dup-back-to-case = Nazad na slučaj
dash-rollout-intro = Planirano: nijedan čvor ne može da se poveže. Pilot i aktivno: puna sinhronizacija. Obustavljeno: čvorovi mogu da preuzimaju, ali ne i da šalju (nastavljaju da upisuju i šalju kad se nastavi). Promena važi odmah i beleži se sa vašim imenom i razlogom.
dash-rollout-kinds = Vrste upisa
dash-rollout-last-change = Poslednja promena
dash-rollout-change-to = Promeni u
dash-rollout-changed = { $at }, { $by }
dash-rollout-default = podrazumevano
dash-rollout-stage-of = Faza: { $m }
dash-rollout-reason = razlog
dash-rollout-reason-of = Razlog promene: { $m }
dash-rollout-change = Promeni
dash-verify-title = Provera izvoda
dash-verify-intro = Skenirajte QR kod izvoda i nalepite njegov tekst ovde.
dash-verify-qr-label = Tekst QR koda
dash-verify-check = Proveri
dash-verify-valid = VAŽEĆE
dash-verify-invalid = NEVAŽEĆE
dash-verify-pending = NEPOTVRĐENO
dash-verify-signed-by = potpisao { $signer }
dash-verify-pending-why = potpis { $signer } je ispravan, ali kancelarija još nije prijavila ovaj izvod: izdat van mreže { $date }.
dash-verify-last-reported = Poslednji izvod koji je prijavila kancelarija { $office }: { $serial }.
dash-verify-none-reported = Kancelarija { $office } još nije prijavila nijedan izvod.
dash-verify-claims = Potpisani podaci
dash-verify-claim-serial = Serijski broj
dash-verify-claim-record = Upis
dash-verify-claim-kind = Vrsta
dash-verify-claim-issued = Izdat
dash-verify-claim-office = Kancelarija
dash-verify-claim-version = Verzija upisa
dash-verify-claim-event-date = Datum događaja
dash-verify-claim-event-place = Mesto događaja
dash-verify-not-held = Agencija još nije primila ovaj upis od njegove kancelarije: njegovo sadašnje stanje ne može da se uporedi.
dash-verify-reported = Kancelarija koja je izdala izvod prijavila ga je agenciji.
dash-verify-not-reported = Ako sumnjate, pitajte kancelariju koja je izdala izvod: ona prijavljuje šta je izdala kad joj veza sa agencijom ponovo proradi.
dash-refusal-undecodable = kod ne može da se pročita kao civreg izvod: { $why }
dash-refusal-unknown-signer = potpisano ključem koji lista poverenja ne poznaje (id ključa { $kid }); ako je izvod nov, pokušajte ponovo kasnije
dash-refusal-bad-signature = potpis se ne slaže sa sadržajem: izvod je izmenjen ili krivotvoren
dash-refusal-signer-expired = potpisao { $signer } dana { $issued }, van perioda važenja ({ $from } do { $to })
dash-refusal-signer-revoked = potpisnik { $signer } je opozvan { $at }: agencija više ne jemči ni za šta što je potpisao
dash-refusal-foreign-serial = potpis { $signer } je ispravan, ali overena kancelarija je { $office } i serijski broj { $serial } nije od onih koje ona izdaje: izvod je napravljen van registra
dash-refusal-unknown-serial = serijski broj { $serial } nije u registru agencije: njegova kancelarija je od tada prijavila izvode izdate posle ovog, a ovaj nije
dash-refusal-cancelled = izvod je poništen { $at }: { $reason }
dash-refusal-record-voided = upis { $regno } je poništen pošto je ovaj izvod izdat
dash-refusal-record-amended = upis { $regno } je izmenjen pošto je ovaj izvod izdat (tada verzija { $issued }, sada { $now }): zatražite novi izvod
## Komandna linija čvora (zadatak clilang): `civreg-node --lang sr-Latn`. Gde aplikacija ima iste reči
## (provera, vrste upisa i izmene, uloge, događaji), komandna linija koristi ključeve aplikacije.
cli-error = greška: { $message }
cli-problem-error = greška: { $field }: { $message }
cli-problem-warning = upozorenje: { $field }: { $message }
cli-not-saved = upis nije sačuvan:
cli-saved = sačuvano { $regno }
cli-amended = izmenjeno { $regno }
cli-annotated = zabeleženo { $regno }
cli-voided = poništeno { $regno }
cli-clerk-added = službenik { $name } je dodat
cli-ask-clerk = službenik
cli-ask-password = lozinka za { $name }
cli-ask-new-password = nova lozinka za { $name }
cli-ask-repeat = ponovite je
cli-err-no-terminal = nema terminala za pitanje: postavite CIVREG_CLERK i CIVREG_CLERK_PASSWORD: { $detail }
cli-err-read-password = lozinka nije mogla da se pročita: postavite { $var }: { $detail }
cli-err-passwords-differ = dve lozinke se razlikuju; ništa nije promenjeno
cli-err-bad-credentials = nepoznat službenik ili pogrešna lozinka
cli-err-clerk-exists = službenik { $name } već postoji
cli-err-clerk-name = ime službenika { $name } nije ispravno: koristite od 1 do 32 mala slova, cifre, tačke ili donje crte
cli-err-weak-password = lozinka mora imati najmanje 8 znakova
cli-err-wrong-key = datoteka ključa ne pripada ovoj bazi podataka (ili je baza oštećena): koristite datoteku ključa napravljenu kada je ovaj čvor pokrenut
cli-err-not-initialised = nema baze podataka čvora u { $dir }: prvo pokrenite `civreg-node --data-dir { $dir } init --municipality KOD --node-id ID`
cli-err-locked = bazu podataka u { $path } koristi drugi proces civreg-node (da li radi `civreg-node serve`?); zaustavite ga ili sačekajte da završi
cli-err-lost = `civreg-node serve` se zaustavio pre nego što je komanda završena, pa je možda izvršena, a možda i nije: proverite (npr. sa `civreg-node show` ili `search`) pre nego što je ponovo pokrenete
cli-err-no-access = { $path }: pristup odbijen: pokrenite komandu kao korisnik koji pokreće `civreg-node serve`
cli-err-request-too-large = komanda je prevelika da bi se predala pokrenutom `civreg-node serve` (zahtev može imati najviše { $max } bajtova): stavite podatke u datoteku
cli-err-not-found = nema upisa { $regno } na ovom čvoru
cli-err-bad-regno = { $value } nije broj upisa: očekuje se OPŠTINA-GODINA-VRSTA-BROJ, npr. PRISHTINE-2026-B-000042
cli-err-voided = upis { $regno } je poništen i ne može se menjati
cli-err-no-change = nema šta da se menja: izmene ostavljaju upis { $regno } kakav jeste
cli-err-void-reason = za poništavanje upisa potreban je razlog: navedite --reason "..."
cli-err-amend-reason = za izmenu upisa potreban je razlog (čuva se u istoriji upisa): navedite --reason "..."
cli-err-wrong-municipality = ova kancelarija upisuje samo upise opštine { $own }, a upis navodi { $given }
cli-err-halted = ova kancelarija je prestala sa upisom: { $reason }. Ništa ne može da se sačuva u ovoj bazi podataka; pozovite agenciju (priručnik operatera: "Kancelarija koja je prestala sa upisom")
cli-err-clock-ahead = sat ovog računara je pri poslednjoj sinhronizaciji žurio { $minutes } minuta u odnosu na centar: ispravite datum i vreme računara, zatim sinhronizujte (`civreg-node sync --once`) i ponovo sačuvajte
cli-err-read-file = { $file } nije mogla da se pročita: { $detail }
cli-err-write-report = izveštaj nije mogao da se upiše u { $file }: { $detail }
cli-err-not-json = { $file } nije ispravan JSON: { $detail } (red { $line }, kolona { $column })
cli-err-doc-not-json = dokument { $n } nije ispravan JSON: { $detail }; ništa posle njega nije pročitano
cli-err-no-document = { $file } ne sadrži nijedan JSON dokument
cli-err-nothing-to-search = nema šta da se traži: navedite ime, datum, mesto ili lični broj
cli-err-unknown-municipality = nepoznata opština { $name }: `civreg-node municipalities` ih navodi
cli-err-cert-lang = nepoznat jezik { $value }: koristite sq, sr ili en
cli-err-out-exists = { $file } već postoji: izaberite drugi --out
cli-err-cert-not-written = izvod { $serial } je izdat i zabeležen, ali { $file } nije moglo da se upiše: odštampajte ga ponovo sa drugim --out: { $detail }
cli-err-trust-list = lista poverenja { $file } nije mogla da se pročita: { $detail }
cli-show-void = PONIŠTEN: { $reason } (službenik { $clerk }, { $when })
cli-show-conflict = SUKOB { $id } u polju { $field }: prikazano { $shown } — takođe { $other }; odlučuje agencija
cli-show-conflict-status = poništiti ili zadržati
cli-show-side = { $value } (službenik { $clerk } na čvoru { $node }, { $when })
cli-show-annotation = beleška
cli-show-person = osoba { $person } (povezao službenik { $clerk }, { $when })
cli-show-versions = verzije
cli-show-versions-value = { $count } (poslednja izmena { $when })
cli-note-place = { " " }u mestu { $place }
cli-note-record = , upis { $regno }
cli-note-by = (kancelarija { $office })
cli-history-head = { $regno } ({ $kind }), verzija: { $count }
cli-history-version = verzija { $version } — { $change }, službenik { $clerk }, { $when } (op { $op })
cli-history-reason = razlog: { $reason }
cli-search-local = lokalni odgovor: samo upisi ovog čvora; { $why }
cli-search-national = nacionalni odgovor (registar centra): pronađeno { $count }
cli-search-partial = nijedan upis ne odgovara svim delovima pretrage: slede najbliži upisi
cli-search-none = nijedan upis ne odgovara
cli-search-why = zašto
cli-search-born = rođen(a) { $date }
cli-search-why-not-enrolled = ovaj čvor nije prijavljen u centru
cli-search-why-no-answer = centar nije odgovorio ({ $detail })
cli-link-prior = apriorna verovatnoća: u registru se očekuje { $expected } redova ({ $source }, λ { $lambda }); pragovi: podudaranje { $match } bita, moguće { $possible } bita
cli-link-prior-given = apriorna verovatnoća: u registru se očekuje { $expected } redova ({ $source }, λ { $lambda }); pragovi: podudaranje { $match } bita, moguće { $possible } bita (zadao korisnik)
cli-link-source-user = kako je korisnik očekivao
cli-link-source-rules = deterministička pravila
cli-link-source-refined = deterministička pravila, dorađena EM-om nad kandidatima redova (po vrsti reda)
cli-link-kind = { "  " }redovi bez { $lacks } ({ $rows }): udeo { $share }, podudaranje od { $match } bita, moguće od { $possible } bita
cli-link-kind-complete = { "  " }potpuni redovi ({ $rows }): udeo { $share }, podudaranje od { $match } bita, moguće od { $possible } bita
cli-link-field-given-name = imena
cli-link-field-surname = prezimena
cli-link-field-birth-date = datuma rođenja
cli-link-field-birth-place = mesta rođenja
cli-link-field-personal-number = ličnog broja
cli-link-field-father-given-name = očevog imena
cli-link-field-mother-given-name = majčinog imena
cli-status-sync = sinhronizacija
cli-status-not-enrolled = nije prijavljen u centru (čvor van mreže)
cli-status-stopped = ZAUSTAVLJENO: centar odbija ovaj čvor
cli-status-first-round = serve radi, prvi krug je u toku
cli-status-never-served = nikad sinhronizovano preko `serve`
cli-status-online = na mreži
cli-status-offline = van mreže
cli-status-serving = { $state } (serve radi)
cli-status-last-success = poslednji uspeh
cli-status-never = nikad
cli-status-waiting = na čekanju
cli-status-waiting-value = { $count } (najstarija { $age } s)
cli-status-hub-acked = centar ima do
cli-status-pull-cursor = kursor preuzimanja
cli-status-hub = centar u upotrebi
cli-status-hubs = navedeni centri
cli-status-hubs-from-bundle = { $hubs } (iz paketa za upis)
cli-status-hubs-from-hub = { $hubs } (poslao centar { $by }, { $when })
cli-status-hubs-refused = lista centara odbijena
cli-status-hubs-refused-value = { $hubs } (poslao { $by }, { $when }): { $why }
cli-status-last-error = poslednja greška
cli-status-none = nema
cli-status-cert = sertifikat
cli-status-cert-valid = važi još { $days } dana
cli-status-halted = UPIS ZAUSTAVLJEN: { $reason }
cli-status-halted-note = ovde ništa ne može da se sačuva dok agencija ne reaguje
cli-status-clock = SAT ŽURI
cli-status-clock-value = sat ovog računara je žurio { $minutes } minuta u odnosu na centar: ispravite datum i vreme, zatim sinhronizujte; do tada se čuvanje odbija
cli-status-rollout = faza uvođenja
cli-status-rollout-value = { $stage }, sme da upisuje: { $kinds }
cli-status-rollout-none = nijedan upis
cli-import-summary = Redova: { $rows }. Uvezeno: { $accepted }. Već uvezeno ranije (preskočeno): { $skipped }. Odbijeno: { $rejected }.
cli-import-rejected = odbijen red { $line }: { $reasons }
cli-import-double = red { $line }: moguć dvostruki upis, isti kao red { $same } (bez oznake matične knjige): uvezen kao { $regno }, proverite stranu matične knjige
cli-import-rows = redova: { $rows }
cli-import-progress = pročitano redova: { $rows } ({ $percent }% datoteke)
cli-cert-written = izvod { $serial } za { $regno } upisan u { $file } (verzija upisa { $version })
cli-verify-valid = VAŽEĆI: izvod { $serial } za upis { $regno }, izdat { $date }, izdala kancelarija { $office }
cli-verify-person-born = { $name }, rođen(a) { $date }
cli-verify-event = događaj: { $date }, mesto { $place }
cli-verify-offline = provereno van mreže prema listi poverenja od { $date }; da li je upis od tada izmenjen ili izvod poništen zna samo stranica za proveru agencije
cli-verify-unpinned = upozorenje: lista poverenja nije vezana za koren agencije (--anchor); SHA-256 njenog korena je { $fingerprint }: uporedite ga sa otiskom koji je agencija objavila
cli-refusal-undecodable = NIJE VAŽEĆI: kod ne može da se pročita kao civreg izvod: { $detail }
cli-refusal-unknown-signer = NIJE VAŽEĆI: potpisano ključem koji lista poverenja ne poznaje (id ključa { $kid }); ako je izvod nov, nabavite svežu listu poverenja i pokušajte ponovo
cli-refusal-bad-signature = NIJE VAŽEĆI: potpis se ne slaže sa sadržajem: izvod je izmenjen ili falsifikovan
cli-refusal-signer-expired = NIJE VAŽEĆI: potpisao { $signer } dana { $issued }, van perioda važenja ({ $from } do { $to })
cli-refusal-signer-revoked = NIJE VAŽEĆI: potpisnik { $signer } je opozvan { $when }: agencija više ne jemči ni za šta što je potpisao
cli-refusal-foreign-serial = NIJE VAŽEĆI: potpis { $signer } je pravi, ali overena kancelarija je { $office } i serijski broj { $serial } nije od onih koje ona izdaje: izvod je napravljen van registra
cli-refusal-unknown-serial = NIJE VAŽEĆI: serijski broj { $serial } nije u registru agencije: njegova kancelarija je od tada prijavila izvode izdate posle ovog, a ovaj nije
cli-refusal-cancelled = NIJE VAŽEĆI: izvod je poništen { $when }: { $reason }
cli-refusal-record-voided = NIJE VAŽEĆI: upis { $regno } je poništen posle izdavanja ovog izvoda
cli-refusal-record-amended = NIJE VAŽEĆI: upis { $regno } je izmenjen posle izdavanja ovog izvoda (tada verzija { $issued }, sada { $now }): zatražite novi izvod
cli-summary-birth = { $name }, rođen(a) { $date }, mesto { $place }
cli-summary-marriage = { $name } i { $spouse }, venčani { $date }, mesto { $place }
cli-summary-death = { $name }, umro/umrla { $date }, mesto { $place }
cli-status-rollout-birth = rođenja
cli-status-rollout-marriage = venčanja
cli-status-rollout-death = smrti
cli-status-rollout-and = i
cli-err-sync-once = `sync` radi jedan krug i traži --once; za stalnu sinhronizaciju pokrenite `civreg-node serve`
cli-sync-done = sinhronizovano sa { $hub }: poslato promena: { $pushed } (centar ima dnevnik ovog čvora do #{ $acked }), preuzeto promena: { $pulled }
cli-sync-retry = { $error } (pokušajte ponovo kasnije)
cli-sync-no-retry = { $error } (ovo se neće rešiti ponovnim pokušajem)
cli-status-set-aside = izdvojeno
cli-status-set-aside-value = promena #{ $seq } (upis { $regno }) izdvojila agencija: { $reason }
cli-unvoid-requested = vraćanje upisa { $regno } zatraženo od agencije (zahtev { $id }): odgovor stiže sa sinhronizacijom (`civreg-node status`)
cli-err-unvoid-not-void = upis { $regno } nije poništen: nema šta da se vrati
cli-err-unvoid-other = upis { $regno } je opštine { $given }: pitajte njenu kancelariju (ova kancelarija traži samo za upise opštine { $own })
cli-err-unvoid-pending = zahtev za vraćanje upisa { $regno } već čeka odgovor agencije: sinhronizujte i pogledajte `civreg-node status`
cli-err-unvoid-full = { $count } zahteva za vraćanje čeka odgovor agencije: sinhronizujte i tražite ponovo kad neki dobiju odgovor
cli-err-unvoid-reason = navedite razlog (--reason "...") od najviše { $max } znakova, u jednom redu: operater agencije ga čita
cli-status-unvoid = vraćanje
cli-unvoid-pending = { $regno }: zatražio { $clerk }, čeka agenciju
cli-unvoid-granted = { $regno }: odobrila agencija ({ $operator }): { $reason }; upis je ponovo aktivan posle sinhronizacije
cli-unvoid-refused = { $regno }: odbila agencija ({ $operator }): { $reason }
cli-unvoid-invalid = { $regno }: centrala nije mogla da primi zahtev: { $reason }
cli-status-backup-failed = REZERVNA KOPIJA NIJE USPELA
cli-status-backup-failed-value = { $error } ({ $when }); poslednja dobra: { $last }
cli-status-backup = poslednja rezervna kopija
cli-status-dupes-model = provera duplikata
cli-status-dupes-model-hub = model centra { $id }, obučen na { $people } osoba (podudaranje od { $matched } bita, moguće od { $possible }), primljen { $when }
cli-status-dupes-model-builtin = ugrađeni model (još nijedan model iz centra)
cli-status-dupes-model-refused = MODEL ODBIJEN
cli-status-dupes-model-refused-value = model centra { $id } ({ $when }): { $why }; provera duplikata zadržava model iznad
cli-status-hub-cert = sertifikat centra
cli-status-hub-cert-value = ističe { $until } (SHA-256 { $sha })
cli-status-hub-next = sledeći sertifikat centra
cli-status-trusted-roots = pouzdani koreni
cli-status-trusted-roots-value = { $count } korena agencije (u toku je zamena CA: stari i novi koren važe zajedno)
## Task https (issue 14): the clerk app's own HTTPS certificate, in the status bar
status-app-cert-expires = HTTPS sertifikat aplikacije ističe za { $days } dana: tražite novi od agencije.
status-app-cert-expired = HTTPS sertifikat aplikacije je istekao: tražite novi od agencije.

# Lead, session 11: the clerk app certificate in `civreg-node status`.
cli-status-app-cert = sertifikat aplikacije
cli-status-app-cert-value = { $names }, važi do { $until }
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

# Task rotate (issue 17): key rotation of the office node
cli-err-rotation-unfinished = zamena ključa baze podataka ove kancelarije nije završena: administrator mora da pokrene `civreg-node rotate-key --resume` (nijedan podatak nije izgubljen; baza podataka se ne može koristiti do tada)
## Task `history` (issue 17): certificates of every kind expiring, in "Needs you now".
dash-now-cert-hub-expires = Sopstveni sertifikat centra ističe { $days ->
    [one] za { $days } dan
   *[other] za { $days } dana
}
dash-now-cert-operator-expires = Operater { $who }: sertifikat ističe { $days ->
    [one] za { $days } dan
   *[other] za { $days } dana
}
dash-now-cert-app-expires = Aplikacija kancelarije { $who }: sertifikat ističe { $days ->
    [one] za { $days } dan
   *[other] za { $days } dana
}
dash-now-cert-hub-expired = Sopstveni sertifikat centra je istekao: čvorovi više ne mogu da se povežu
dash-now-cert-operator-expired = Operater { $who }: sertifikat je istekao
dash-now-cert-app-expired = Aplikacija kancelarije { $who }: sertifikat je istekao
# ---- cluster (session 11): red duplikata po osobi, jedna odluka po grupi ----
dash-dups-by-person = Pregled po osobi: grupe slučajeva
dash-dup-close-same = Zatvori: već su ista osoba
dash-dup-same-open = A i B su već ista osoba (povezani preko drugih slučajeva): zatvorite ovaj slučaj.
dash-dup-via-case = povezivanjem slučaja { $id }
dash-dup-via-cluster = odlukom o grupi { $id }
dash-dup-via-already = već ista osoba
dash-dup-in-cluster = Ovaj slučaj pripada grupi od { $n } upisa: odlučite o svima odjednom
dash-dup-via-import = vezama uvoza datoteke { $file }
dash-dup-via-unlink = ponovo otvoren: razdvajanje slučaja { $id } razdvojilo je njih dvoje, a ovaj slučaj je bio zatvoren samo zato što su bili ista osoba
dash-dup-via-withdrawn = povučen: razdvajanje slučaja { $id } razdvojilo je decu čije je povezivanje predložilo ovaj slučaj
dash-dup-proposed = Predložio centar: roditelji osobe povezane { $at }, povezao { $operator }
dash-cls-title = Duplikati po osobi
dash-cls-intro = Grupa obuhvata svaki upis koji otvoreni slučajevi spajaju, direktno ili preko drugih; upisi koji su već ista osoba broje se jednom. Otvorite grupu da vidite sve njene upise jedan pored drugog i odlučite o svima odjednom. Najjači prvi.
dash-cls-by-pair = Pregled par po par
dash-cls-cluster = Grupa
dash-cls-records = Upisi
dash-cls-persons = Osoba sada
dash-cls-cases = Otvoreni slučajevi
dash-cls-strongest = Najjača težina
dash-cls-weakest = Najslabija težina
dash-cls-too-large = više od { $max } upisa: odlučujte par po par
dash-cl-title = Grupa
dash-cl-summary = { $records } upisa, { $persons } osoba sada, { $cases } otvorenih slučajeva; težine od { $weakest } do { $strongest }; opštine: { $ms }.
dash-cl-too-large = Ova grupa ima { $n } upisa, više od { $max } o kojima se može odlučiti odjednom. Odlučite o njenim slučajevima jedan po jedan ispod.
dash-cl-records = Svi upisi jedan pored drugog
dash-cl-voided = poništen
dash-cl-group = Grupa
dash-cl-group-of = Grupa upisa { $n }
dash-cl-pairs = Težine po parovima
dash-cl-decide-help = Svi su ista osoba: svaki upis dobija jedan identifikator osobe i svaki slučaj grupe zatvara se kao povezan. Razdvoji: dajte svakom upisu broj grupe; svaka grupa postaje jedna osoba, a slučajevi između grupa se odbacuju.
dash-cl-one = Svi su ista osoba
dash-cl-split = Razdvoji po grupama
dash-cl-closed = Ova grupa više nema otvorenih slučajeva: o njoj je odlučeno.
dash-cl-decisions = Odluke o ovoj grupi
dash-cl-choice-one = Svi su ista osoba
dash-cl-choice-split = Razdvajanje
dash-cl-groups = Grupe (osoba: upisi)
dash-cl-decided = { $linked } slučajeva zatvoreno kao povezano, { $dismissed } odbačeno
dash-cl-back = Sve grupe
dash-cl-back-to-cluster = Nazad na grupu
dash-err-no-cluster = Nema otvorene grupe { $id }: o njoj je možda u međuvremenu odlučeno. Spisak grupa prikazuje one koje čekaju.
dash-err-cluster-changed = Grupa { $id } se promenila otkako je stranica otvorena (slučaj je zaveden ili rešen): ponovo učitajte stranicu i odlučite ponovo.
dash-err-cluster-too-large = Grupa { $id } ima { $n } upisa, više od { $max }: odlučite o njenim slučajevima jedan po jedan.
dash-err-not-in-cluster = { $mention } nije upis grupe { $id }: ponovo učitajte stranicu.
dash-err-unassigned = Upis { $mention } nema grupu: dajte svakom upisu broj grupe.
dash-err-bad-group = Grupa „{ $given }” nije broj od 1 do { $max }.
dash-err-splits-person = { $a } i { $b } su već ista osoba: stavite ih u istu grupu (da biste ih razdvojili, prvo raskinite vezu njihovog slučaja).
dash-err-choose-cluster-decision = Izaberite odluku: svi su ista osoba, ili razdvoji po grupama.
## Task clisession (issue 17): the remembered clerk at the command line, files through serve
cli-session-remembered = prijavljeni ste kao { $name }: sledeće komande ne traže lozinku dok ne prođe { $minutes } minuta bez komande (najkasnije u { $until }); `civreg-node logout` je završava
cli-session-signed-in = prijavljeni ste kao { $name } najkasnije do { $until }; sesija se završava posle { $minutes } minuta bez komande, ili sa `civreg-node logout`
cli-session-ended = sesija je završena: sledeća komanda ponovo traži lozinku službenika
cli-session-none = nijedna sesija nije bila otvorena: sledeća komanda traži lozinku službenika
cli-err-login-needs-serve = `civreg-node login` pamti službenika samo dok radi `civreg-node serve`: prvo pokrenite serve (bez njega svaka komanda pita, ili čita CIVREG_CLERK i CIVREG_CLERK_PASSWORD)
cli-err-no-session-dir = ovde nema privatnog mesta za čuvanje sesije: neka svaka komanda traži lozinku
cli-err-file-too-large = { $file } je veći od { $max } KiB: ne može biti datoteka izmena
cli-err-write-file = { $file } nije mogla da se upiše: { $detail }

## Task clerks (issue 17): nalozi službenika čuvaju se u centru, `init --recover` ih vraća
cli-clerk-password-changed = lozinka službenika { $name } je promenjena; stara više ne važi
cli-clerk-removed = službenik { $name } je uklonjen: više ne može da se prijavi
cli-err-no-such-clerk = u ovoj kancelariji nema službenika { $name } (`civreg-node clerk list` ih navodi)
cli-err-last-clerk = službenik { $name } je poslednji službenik kancelarije i ne uklanja se: prvo dodajte drugog službenika
cli-err-too-many-clerks = ova kancelarija ima { $max } naloga službenika, koliko se najviše čuva: uklonite jedan koji više nije potreban (`civreg-node clerk remove NAME`) pre nego što dodate drugi
recover-clerks-restored = nalozi službenika vraćeni iz centra: { $n }; svaki službenik se prijavljuje svojom lozinkom, kako ju je centar poslednji put čuo od ove kancelarije u { $at }. Nalozi dodati ili promenjeni na izgubljenom računaru posle toga nisu vraćeni: dodajte ih ponovo (`civreg-node clerk add NAME`, `civreg-node clerk password NAME`)
recover-clerks-kept = nalozi službenika dodati ovde posle obnove, zadržani: { $n }
recover-clerks-none = centar nema naloge službenika ove kancelarije: dodajte ih ponovo (`civreg-node clerk add NAME`)
recover-clerks-pending = nalozi službenika još nisu vraćeni: stižu sa prvom uspešnom sinhronizacijom (`civreg-node sync --once` ili `serve`)
## Objašnjenja pretrage (shared::query::why): jedan red za svaki deo pretrage
search-why-name = "{ $word }": { $person } ({ $role }), { $field }: { $how }
search-why-person-born = { $name } (prezime po rođenju { $born })
search-why-no-name = "{ $word }": tog imena nema u ovom upisu
search-why-year = { $year }: datum rođenja { $born }
search-why-year-not = { $year }: nije godina rođenja ({ $born })
search-why-date = { $date }: datum rođenja { $born }
search-why-date-swapped = { $date }: datum rođenja { $born } (zamenjeni dan i mesec)
search-why-date-not = { $date }: nije datum rođenja ({ $born })
search-why-place = "{ $word }": { $place }
search-why-place-not = "{ $word }": { $place } nije mesto ovog upisa ({ $record_place })
search-why-number = lični broj: tačan
search-why-unknown-date = ?
search-field-given = ime
search-field-surname = prezime
search-field-birth = prezime po rođenju (devojačko prezime)
search-field-father = očevo ime
search-field-fathers-given = ime oca (kao lica u upisu)
search-how-exact = tačno, bez obzira na pismo i dijakritičke znake
search-how-orthography = isto ime u pravopisu ili pismu druge zajednice
search-how-folded = ista slova bez dijakritičkih znakova (drugačije pisanje)
search-how-phonetic = slično zvuči
search-how-prefix = ime počinje ovim slovima
search-how-typos = { $n ->
    [one] { $n } greška u kucanju
    [few] { $n } greške u kucanju
   *[other] { $n } grešaka u kucanju
}
search-role-child = dete
search-role-mother = majka
search-role-father = otac
search-role-spouse1 = prvi supružnik
search-role-spouse2 = drugi supružnik
search-role-deceased = preminuli
