# civreg: katalogu i mesazheve, shqip (gjuha e parazgjedhur).

app-title = Gjendja civile
app-office = Zyra { $office }
lang-label = Gjuha
lang-apply = Zbato
skip-to-main = Kalo te përmbajtja

## Hyrja
nav-home = Fillimi
nav-search = Kërko
nav-register-birth = Regjistro një lindje
nav-register-marriage = Regjistro një martesë
nav-register-death = Regjistro një vdekje
sign-in = Hyr
sign-in-title = Hyr në gjendjen civile
sign-out = Dil
signed-in-as = I kyçur si { $clerk }
clerk-name = Emri i nëpunësit
password = Fjalëkalimi
sign-in-failed = Nëpunës i panjohur ose fjalëkalim i gabuar. Provo përsëri.
sign-in-throttled = Shumë fjalëkalime të gabuara: hyrja refuzohet për { $seconds } s. Provo më vonë; nëse e ke harruar fjalëkalimin, kërkoji administratorit një të ri.
sign-in-busy = Shumë hyrje njëkohësisht. Provo përsëri pas pak sekondash.
signed-out = Ke dalë.
session-expired = Seanca jote ka përfunduar. Hyr përsëri.

## Shiriti i gjendjes
status-title = Lidhja me qendrën
status-online = Në linjë
status-offline = Jashtë linje: puna vazhdon dhe dërgohet kur të kthehet lidhja
status-not-enrolled = E paregjistruar në qendër
status-waiting = { $count ->
    [one] 1 në pritje
   *[other] { $count } në pritje
}
status-oldest = më e vjetra { $minutes } min
status-last-sync = sinkronizimi i fundit { $when }
status-never = asnjë sinkronizim ende
status-refused = Qendra e refuzon këtë zyrë: { $reason }. Telefononi agjencinë.
status-halted = Kjo zyrë ka ndalur regjistrimet: { $reason }. Telefononi agjencinë.
status-cert-expires = Certifikata e zyrës skadon pas { $days } ditësh: kërkojini agjencisë një të re.
status-cert-expired = Certifikata e zyrës ka skaduar: kërkojini agjencisë një të re.

## Fillimi
home-title = Sot në zyrë
home-records = Regjistra në këtë zyrë: { $count }
home-start = Çfarë dëshironi të bëni?

## Formularët
section-record = Regjistri
section-child = Fëmija
section-mother = Nëna
section-father = Babai (opsional)
section-register = Libri i regjistrit në letër (opsional)
section-spouse1 = Bashkëshorti i parë
section-spouse2 = Bashkëshorti i dytë
section-marriage = Martesa
section-deceased = I ndjeri
section-death = Vdekja
section-numbers = Numrat personalë (opsional)
f-given-name = Emri
f-surname = Mbiemri
f-maiden-surname = Mbiemri i vajzërisë
f-father-given-name = Emri i babait
f-date-of-birth = Data e lindjes
f-sex = Gjinia
sex-none = (pa të dhënë)
sex-male = Mashkull
sex-female = Femër
f-jmbg = JMBG
f-kosovo = Numri personal i Kosovës
f-albanian = Numri personal i Shqipërisë
f-place-of-birth = Vendi i lindjes
f-book = Libri
f-year = Viti
f-page = Faqja
f-entry = Numri rendor
f-notes = Shënime
f-surname-before = Mbiemri para martesës
f-surname-after = Mbiemri pas martesës
f-date-of-marriage = Data e martesës
f-place-of-marriage = Vendi i martesës
f-date-of-death = Data e vdekjes
f-place-of-death = Vendi i vdekjes
date-hint = p.sh. 14.03.1968 ose 1968-03-14
place-hint = Çdo emër i vendit, në çdo shkrim: Prishtinë, Priština, Приштина
place-known = { $place } ({ $code })
save = Ruaj
saved = U ruajt si { $regno }.
saved-warnings = U ruajt me paralajmërime.
form-problems = Regjistri nuk u ruajt. Korrigjoni fushat e shënuara më poshtë.
form-warnings = Shikoni paralajmërimet më poshtë. Për ta ruajtur gjithsesi, shënoni kutinë dhe ruajeni përsëri.
confirm-warnings = I kam kontrolluar paralajmërimet dhe dua ta ruaj regjistrin siç është
form-already-saved = Ky formular është ruajtur tashmë, si { $regno }: nuk u regjistrua dy herë.
form-date = Shkruajeni datën si 14.03.1968 ose 1968-03-14.
form-number = Shkruani një numër të plotë.
form-register-incomplete = Jepni librin, vitin, faqen dhe numrin rendor të regjistrit në letër, ose asnjërin prej tyre.
form-shape = Regjistri nuk mund të lexohej: { $detail }
form-reason-required = Jepni arsyen.
form-stale = Ky regjistër u ndryshua pasi e hapët formularin (tani versioni { $version }). Asgjë nuk u ruajt: shikojeni regjistrin siç është tani dhe bëjeni ndryshimin përsëri.
jmbg-live-mismatch = JMBG-ja nuk përputhet me datën e lindjes ose gjininë e shkruar.

## Kërkimi
search-title = Kërko
search-label = Emra, vite, vende ose një numër personal
search-button = Kërko
search-born = Viti i lindjes (p.sh. 1968 ose 1960..1970)
search-municipality = Komuna
search-kind = Lloji
kind-any = çdo lloj
search-local = Përgjigje lokale: vetëm regjistrat e kësaj zyre.
search-national = Përgjigje kombëtare: regjistri i qendrës.
search-none = Nuk u gjet asgjë.
search-count = { $count ->
    [one] U gjet 1 regjistër
   *[other] U gjetën { $count } regjistra
}
search-not-here = Mbahet në qendër, jo në këtë zyrë.
search-bad-born = Shkruajeni vitin e lindjes si 1968, 1968-03-14 ose 1960..1970.
search-too-long = Kërkimi është shumë i gjatë (më së shumti 12 fjalë): shkurtojeni.

## Regjistrat
kind-birth = Lindje
kind-marriage = Martesë
kind-death = Vdekje
record-title = Regjistri { $regno }
record-void = I ANULUAR: { $reason }
record-fields = Fushat
record-history = Historiku
record-version = Versioni { $version }
record-change-create = u regjistrua
record-change-amend = u ndryshua
record-change-void = u anulua
record-change-annotate = u shënua
record-change-link = u lidh
record-change-restore = u rikthye
record-by = nga { $clerk }
record-reason = Arsyeja: { $reason }
record-sync = Sinkronizimi
record-sync-hub = Në qendër
record-sync-here = I ruajtur këtu, në pritje të qendrës
record-conflicts = Konflikte të hapura: { $count }
record-amend = Ndrysho
record-void-action = Anulo
amend-title = Ndrysho { $regno }
void-title = Anulo { $regno }
f-reason = Arsyeja
void-confirm = Anulo regjistrin
amended = U ndryshua.
voided = U anulua.
no-change = Asgjë nuk ndryshoi: regjistri është siç ishte.

## Gabimet
err-title = Diçka shkoi keq
err-csrf = Formulari ka skaduar ose nuk erdhi nga ky aplikacion. Kthehuni, ringarkoni faqen dhe provoni përsëri.
err-too-large = Ajo që u dërgua është shumë e madhe (më së shumti { $kib } KiB). Asgjë nuk u ruajt.
err-not-found = Nuk u gjet: { $what }
err-bad-request = Kërkesa nuk mund të lexohej: { $detail }
err-internal = Gabim i brendshëm. Asgjë nuk humbi; provoni përsëri dhe njoftoni administratorin nëse vazhdon.
err-refused = Nuk u ruajt: { $detail }
err-host = Ky aplikacion u përgjigjet vetëm emrave për të cilët është konfiguruar: hapeni si http://localhost:PORT ose me një emër të konfiguruar.
back-home = Kthehu në fillim

## Vërtetimi (një për çdo kod të shared::validate::ALL_CODES)
v-municipality-unknown = Komunë e panjohur: zgjidhni një nga lista.
v-name-required = Emri është i detyrueshëm.
v-name-characters = Emri mund të përmbajë vetëm shkronja, pa shifra ose shenja.
v-name-too-long = Emri është shumë i gjatë (më së shumti 100 shkronja).
v-text-too-long = Teksti është shumë i gjatë (më së shumti 2.000 shkronja).
v-place-required = Vendi është i detyrueshëm.
v-birth-date-required = Data e lindjes së fëmijës është e detyrueshme.
v-birth-sex-required = Gjinia e fëmijës është e detyrueshme.
v-date-future = Data është në të ardhmen.
v-death-before-birth = Data e vdekjes është para datës së lindjes.
v-parent-too-young = Prindi do të ishte më pak se 12 vjet më i madh se fëmija: kontrolloni të dyja datat.
v-spouse-born-after-marriage = Bashkëshorti ka lindur pas martesës: kontrolloni të dyja datat.
v-spouse-under-16 = Bashkëshorti ishte nën 16 vjeç në martesë.
v-spouse-under-18 = Bashkëshorti ishte nën 18 vjeç në martesë: kontrolloni datat.
v-register-book-required = Libri i regjistrit është i detyrueshëm.
v-register-year-range = Viti i regjistrit duhet të jetë midis 1900 dhe këtij viti.
v-register-page = Faqja duhet të jetë një numër nga 1.
v-register-entry = Numri rendor duhet të jetë një numër nga 1.
v-register-year-before-event = Viti i regjistrit është para ngjarjes që regjistron.
v-jmbg-length = JMBG-ja ka 13 shifra.
v-jmbg-character = JMBG-ja përmban vetëm shifra.
v-jmbg-date = Shtatë shifrat e para të JMBG-së nuk janë një datë e vërtetë.
v-jmbg-region = Rajoni i JMBG-së (shifrat 8 dhe 9) nuk është në përdorim.
v-jmbg-checksum = Shifra kontrolluese e JMBG-së është e gabuar: kontrolloni numrin me dokumentin.
v-jmbg-check-ten = Shifra kontrolluese e JMBG-së është 0 aty ku llogaritja jep 10: konfirmoni numrin me dokumentin.
v-jmbg-date-mismatch = JMBG-ja nuk përputhet me datën e lindjes.
v-jmbg-sex-mismatch = JMBG-ja nuk përputhet me gjininë.
v-jmbg-duplicate = E njëjta JMBG është dhënë për dy persona të regjistrit.
v-kosovo-length = Numri personal i Kosovës ka 10 shifra.
v-kosovo-character = Numri personal i Kosovës përmban vetëm shifra.
v-kosovo-checksum = Shifra e fundit e numrit personal të Kosovës nuk përputhet me kontrollin e zakonshëm: konfirmojeni me dokumentin.
v-albanian-length = Numri personal i Shqipërisë është një shkronjë, 8 shifra dhe një shkronjë.
v-albanian-character = Numri personal i Shqipërisë është një shkronjë, 8 shifra dhe një shkronjë.
v-albanian-decade = Shkronja e parë e numrit personal të Shqipërisë nuk është një dekadë e njohur.
v-albanian-date = Numri personal i Shqipërisë nuk përmban një datë të vërtetë.
v-albanian-checksum = Shkronja kontrolluese e numrit personal të Shqipërisë është e gabuar.
v-albanian-date-mismatch = Numri personal i Shqipërisë nuk përputhet me datën e lindjes.
v-albanian-sex-mismatch = Numri personal i Shqipërisë nuk përputhet me gjininë.
v-op-record-id = Numri i regjistrimit nuk është i vlefshëm.
v-op-kind = Lloji i regjistrit nuk përputhet me numrin e tij.
v-op-too-many-changes = Shumë fusha ndryshohen njëherësh.
v-op-too-large = Ndryshimi është shumë i madh.
v-op-clerk = Emri i nëpunësit nuk është i vlefshëm.
v-op-reason-too-long = Arsyeja është shumë e gjatë.
v-op-changes = Ndryshimi nuk është i vlefshëm.
v-record-shape = Regjistri nuk mund të lexohej.
v-field-unknown = Fushë e panjohur.
v-field-value = Vlera nuk është e vlefshme për këtë fushë.
v-field-required = Kjo fushë është e detyrueshme.
v-field-municipality = Komuna e një regjistri nuk mund të ndryshohet.
v-annotation-path = Shënimi nuk është i vlefshëm.
v-annotation-office = Shënimi i përket një zyre tjetër.
v-annotation-incomplete = Shënimi është i paplotë.
v-annotation-event = Ngjarje e panjohur për një shënim.
v-annotation-record = Numri i regjistrit të shënimit nuk është i vlefshëm.

## Printing a certificate from the record page
cert-title = Shtyp një certifikatë
cert-lang = Gjuha e certifikatës
cert-lang-sq = Shqip, pastaj serbisht
cert-lang-sr = Serbisht, pastaj shqip
cert-lang-en = Shqip dhe serbisht, me anglisht
cert-collector = Kush e merr (emri dhe mbiemri)
cert-collector-hint = Siç shkruhet në dokumentin e identitetit që tregoi. Mos shkruani numrin e dokumentit.
cert-id-document = Dokumenti i identitetit që u tregua
cert-id-id-card = Letërnjoftim
cert-id-passport = Pasaportë
cert-id-driving-licence = Patentë shoferi
cert-id-residence-permit = Leje qëndrimi
cert-id-other = Tjetër
cert-print = Shtyp certifikatën (PDF)
cert-no-signer = Kjo zyrë nuk ka ende nënshkrues dokumentesh, prandaj nuk mund të shtypë certifikata. Kërkojeni nga agjencia.
cert-void = Regjistri është anuluar: për të nuk lëshohet certifikatë.
cert-collector-required = Shkruani emrin e personit që e merr certifikatën, siç është në dokumentin e tij, pa shenja të veçanta.
cert-id-required = Zgjidhni llojin e dokumentit të identitetit që u tregua.
cert-lang-required = Zgjidhni gjuhën e certifikatës.
cert-printed = Certifikatat e shtypura
cert-serial = Numri serik
cert-when = Kur
cert-by = Nëpunësi
cert-for = Për
cert-version = Versioni i regjistrit
cert-none = Asnjë certifikatë e shtypur ende.

## The duplicate check before saving a birth or death
dupes-title = Mund të jetë regjistruar tashmë
dupes-intro = Këto regjistrime i ngjajnë atij që po shkruani. Nëse është i njëjti person, hapni regjistrimin ekzistues; përndryshe konfirmoni që ky është regjistrim i ri.
dupes-count = { $count ->
    [one] 1 regjistrim i ngjashëm
   *[other] { $count } regjistrime të ngjashme
}
dupes-typed = Ajo që shkruat
dupes-record = Regjistri
dupes-people = Personat
dupes-open = Hape regjistrin ekzistues
dupes-new = Është person tjetër: ruaje si regjistrim të ri
record-dupes-checked = U kontrollua për dyfishim: { $regnos } ishin të ngjashëm; nëpunësi konfirmoi regjistrim të ri.

## Today's work on the start page
today-title = Puna e sotme
today-summary = Regjistrime sot: { $count }. Në pritje për t'u dërguar në agjenci: { $waiting }.
today-mine = Të miat
today-office = Të tjerët në këtë zyrë
today-time = Ora
today-change = Çfarë
today-clerk = Nëpunësi

## Noting an event on a birth record (annotation)
annotate-title = Shëno një ngjarje
annotate-heading = Shëno një ngjarje në { $regno }
annotate-intro = Një shënim regjistron në një akt lindjeje një martesë, vdekje ose shkurorëzim të regjistruar diku tjetër. Nuk ndryshon asnjë fushë të vetë regjistrit.
annotate-link = Shëno një ngjarje
annotate-event = Ngjarja
annotate-event-marriage = Martesë
annotate-event-death = Vdekje
annotate-event-divorce = Shkurorëzim
annotate-event-other = Tjetër
annotate-date = Data e ngjarjes
annotate-place = Vendi i ngjarjes
annotate-record = Numri i regjistrit të ngjarjes
annotate-record-hint = Numri i aktit të martesës ose vdekjes, nëse është regjistruar.
annotate-text = Shënim
annotate-save = Ruaje shënimin
annotate-sent = Shënimi u ruajt. Dërgohet në agjenci në sinkronizimin e ardhshëm.
annotate-event-required = Zgjidhni ngjarjen.
annotate-not-known = Ky regjistër nuk njihet këtu: gjejeni më parë me kërkim kombëtar, kur linja punon, pastaj shënoni ngjarjen nga përgjigja.
annotate-bad-regno = Ky nuk është numër regjistri.
annotated = Shënimi u ruajt.

## Importing a CSV of register pages
import-title = Importo CSV
import-intro = Zgjidhni një skedar CSV me faqe regjistri (kolonat si te `civreg-node import`; ndarës , ; ose tab; data si 14.03.1968). Deri në { $mib } MiB. Rreshtat e refuzuar shfaqen këtu me numrin e rreshtit dhe arsyet; asgjë nuk importohet dy herë.
import-file = Skedari CSV
import-start = Importo
import-busy = Po importohet…
import-line = Rreshti
import-reasons = Arsyet
import-download = Shkarko raportin
import-noscript = Kjo faqe ka nevojë për JavaScript; përndryshe përdorni `civreg-node import`.
import-summary = Rreshta: { $rows }. U importuan: { $accepted }. Ishin importuar më parë: { $skipped }. U refuzuan: { $rejected }.
import-too-large = Skedari është më i madh se { $mib } MiB: ndajeni në disa skedarë.
import-empty = Skedari është bosh.
import-not-csv = Ky nuk është skedar CSV (tekst): ruajeni si CSV dhe provoni përsëri.
import-unreadable = Skedari nuk mund të lexohet: { $detail }

# ---- dupes (session 11): the duplicate check scored by the linkage model, side by side ----
dupes-caption = Ajo që shkruat pranë çdo regjistrimi të gjetur, fushë për fushë
dupes-field = Fusha
dupes-typed-new = Regjistrim i ri
dupes-none = nuk është dhënë
dupes-f-father = Emri i babait
dupes-f-mother = Emri i nënës
dupes-f-mother-maiden = Mbiemri i vajzërisë i nënës
dupes-f-pnum = Numri personal
dupes-f-municipality = Regjistruar në
dupes-strength-match = Ka shumë gjasa të jetë i njëjti person
dupes-strength-possible = Ndoshta është i njëjti person
dupes-strength-same-number = I njëjti numër personal, të dhënat e tjera ndryshojnë
dupes-strength-unscored = Dihet shumë pak për ta krahasuar
dupes-partial = Mbahet në një zyrë tjetër: këtu dihen vetëm emrat, data dhe vendi i lindjes; fushat e tjera nuk u krahasuan.
dupes-m-agree = Përputhet
dupes-m-agree-spelling = Përputhet (drejtshkrim ose alfabet tjetër)
dupes-m-sounds = Afër: tingëllon njësoj
dupes-m-typo = Afër: një gabim shtypi
dupes-m-swapped = Afër: emri dhe mbiemri të ndërruar
dupes-m-other-surname = Afër: përputhet me një mbiemër të mëparshëm
dupes-m-date-swapped = Afër: dita dhe muaji të ndërruar
dupes-m-digit = Afër: ndryshon një shifër
dupes-m-same-year = Afër: i njëjti vit
dupes-m-year-apart = Afër: një vit diferencë
dupes-m-close = Afër
dupes-m-differ = Ndryshon
dupes-m-unknown = Nuk u krahasua: mungon në njërën anë
