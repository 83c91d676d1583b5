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

## Paneli i operatorit të qendrës (detyra dash: çdo faqe e panelit nga katalogët)
dash-app = civreg qendra
dash-nav = Paneli
dash-nav-overview = Përmbledhja
dash-nav-conflicts = Konfliktet
dash-nav-duplicates = Dyfishimet
dash-nav-rollout = Shtrirja
dash-nav-metrics = Metrikat
dash-signed-in-as = i identifikuar si
dash-sign-out = Dil
dash-back-overview = Kthehu te përmbledhja
dash-signin-title = Hyr
dash-signin-name = Operatori
dash-signin-password = Fjalëkalimi
dash-signin-submit = Hyr
dash-signin-no-accounts = Ende nuk ekziston asnjë llogari operatori: krijoni një në kompjuterin e qendrës me
dash-signin-expired = Formulari i hyrjes kishte skaduar: provoni përsëri.
dash-signin-wrong = emër operatori ose fjalëkalim i gabuar
dash-signin-impossible = hyrja nuk është e mundur: { $detail }
dash-signin-busy = shumë hyrje njëherësh: provoni përsëri pas një minute
dash-signin-throttled = Shumë fjalëkalime të gabuara: hyrja refuzohet për { $secs } s. Provoni më vonë.
dash-signin-throttled-hint = Nëse e keni harruar fjalëkalimin, kërkoni një të ri:
dash-err-title = Diçka shkoi keq
dash-err-not-found = Nuk u gjet
dash-err-forbidden = U refuzua
dash-err-conflict = Tashmë është bërë
dash-err-bad-request = Kontrolloni formularin
dash-err-busy = I zënë
dash-err-csrf = u refuzua: formulari ka skaduar ose nuk erdhi nga ky panel; ringarkoni faqen dhe provoni përsëri
dash-err-internal = gabim i brendshëm: { $detail }
dash-err-access-log = regjistri i qasjeve nuk mund të shkruhej, prandaj të dhënat nuk shfaqen: { $detail }
dash-err-no-node = qendra nuk njeh asnjë nyje { $node }
dash-err-no-conflict = nuk ka konflikt { $id }: lista e konflikteve tregon ato të hapura
dash-err-conflict-resolved = konflikti { $id } është zgjidhur tashmë, nga { $by }
dash-err-conflict-reason = një vendim kërkon arsye: ajo ruhet me historikun e aktit
dash-err-conflict-invalid = me atë vlerë akti { $regno } nuk do të ishte i vlefshëm: { $why }
dash-err-no-case = nuk ka rast dyfishimi { $id }: lista e dyfishimeve i tregon ata
dash-err-case-decided = rasti { $id } është vendosur tashmë: { $status }, nga { $by }
dash-err-case-not-linked = rasti { $id } nuk është i lidhur: vetëm një rast i lidhur mund të shkëputet
dash-err-choose-side = zgjidhni A, B ose një vlerë tjetër, pastaj regjistroni vendimin
dash-err-choose-decision = zgjidhni lidh, hidh poshtë ose shkëput, pastaj regjistroni vendimin
dash-err-decision-reason = thoni arsyen: çdo vendim ruhet me arsyen e tij në historikun e rastit
dash-err-unknown-stage = fazë e panjohur { $stage }: zgjidhni e planifikuar, pilot, aktive ose e pezulluar
dash-err-stage-reason = ndryshimi i fazës kërkon një arsye: ajo ruhet në regjistrin e shtrirjes
dash-err-unknown-municipality = komunë e panjohur { $code }: zgjidhni një nga lista (kodet si në përmbledhje, p.sh. prishtine)
dash-dur-s = { $n } s
dash-dur-min = { $n } min
dash-dur-h = { $n } orë
dash-dur-days = { $n ->
    [one] { $n } ditë
   *[other] { $n } ditë
}
dash-ago = para { $ago }
dash-seen-ago = parë para { $ago }
dash-never-seen = asnjëherë e parë
dash-never = asnjëherë
dash-by = nga { $name }
dash-ops = { $n ->
    [one] { $n } veprim
   *[other] { $n } veprime
}
dash-oldest = më i vjetri { $ago }
dash-lag = vonesa { $ago }
dash-op = veprimi { $op }
dash-open = e hapur
dash-record = akti { $id }
dash-reason-is = arsyeja: { $reason }
dash-resolved-by = zgjidhur nga { $name }
dash-no-node = asnjë nyje
dash-cert-expired = ka skaduar
dash-cert-in-days = { $days ->
    [one] pas { $days } dite
   *[other] pas { $days } ditësh
}
dash-stage-planned = e planifikuar
dash-stage-pilot = pilot
dash-stage-live = aktive
dash-stage-suspended = e pezulluar
dash-state-revoked = e revokuar
dash-state-expired = certifikata ka skaduar
dash-state-forked = e degëzuar
dash-state-online = në linjë
dash-state-offline = nuk arrin te qendra
dash-state-never = asnjëherë e dëgjuar
dash-kind-birth = lindje
dash-kind-marriage = martesë
dash-kind-death = vdekje
dash-col-municipality = Komuna
dash-col-stage = Faza
dash-col-nodes = Nyjet
dash-col-waiting = Veprime në pritje
dash-col-acked = Konfirmuar, vonesa
dash-col-conflicts = Konflikte të hapura
dash-col-duplicates = Dyfishime të hapura
dash-col-cert = Skadimi më i afërt i certifikatës
dash-col-refusal = Refuzimi i shtrirjes
dash-col-clock = Ora
dash-col-attention = Vëmendje
dash-col-record = Akti
dash-col-field = Fusha
dash-col-state = Gjendja
dash-now-title = Kërkon vëmendjen tuaj tani
dash-now-all-well = Asgjë nuk ju pret tani: çdo zyrë në pilot ose aktive arrin te qendra, asnjë radhë nuk ka ngecur, asgjë nuk është refuzuar dhe nuk pret asnjë konflikt, dyfishim apo certifikatë.
dash-now-municipalities = Komunat
dash-now-waiting = { $n } në pritje
dash-now-rule = Një zyrë "nuk arrin te qendra" kur humbet dy nga raundet e veta të sinkronizimit (zyrat me versione më të vjetra: pa sinjal jete për { $window }). Veprimet në pritje janë sipas numërimit në sinjalin e fundit të zyrës.
dash-now-refresh = Kjo faqe ringarkohet çdo { $secs } s; përditësuar më { $updated }.
dash-now-updated = Përditësuar më { $updated }.
dash-refresh-pause = Mos e ringarko më këtë faqe çdo { $secs } s
dash-refresh-resume = Ringarkoje këtë faqe çdo { $secs } s
dash-now-last-heard = dëgjuar për herë të fundit para { $ago }
dash-now-revoked = { $node }: certifikata u revokua
dash-now-expired = { $node }: certifikata ka skaduar
dash-now-expired-detail = nuk mund të sinkronizohet derisa të regjistrohet përsëri
dash-now-halted = { $node } ka ndalur regjistrimin
dash-now-refused = { $node } u refuzua: { $why }
dash-now-refused-detail = para { $ago }, deri në raundin e saj të ardhshëm të suksesshëm
dash-now-blocked = { $node } e bllokuar te veprimi #{ $seq } ({ $record })
dash-now-blocked-detail = refuzuar përgjithmonë; shihni `civreg-hub refused`
dash-now-not-reaching = { $node } nuk arrin te qendra
dash-now-not-reaching-detail = { $seen }; humbi dy raunde (çdo { $every })
dash-now-queue = { $node }: { $n } veprime në pritje, më i vjetri prej { $ago }
dash-now-queue-detail = qendra mban deri te #{ $seq }
dash-now-queue-heartbeat = (sipas sinjalit të saj para { $ago })
dash-now-cert-expires = { $node }: certifikata skadon { $days ->
    [one] pas { $days } dite
   *[other] pas { $days } ditësh
}
dash-now-cert-on = më { $date }
dash-now-conflicts = { $n ->
    [one] { $n } konflikt për t'u zgjidhur
   *[other] { $n } konflikte për t'u zgjidhur
}
dash-now-duplicates = { $n ->
    [one] { $n } dyfishim i mundshëm për t'u shqyrtuar
   *[other] { $n } dyfishime të mundshme për t'u shqyrtuar
}
dash-overview-every = Çdo komunë
dash-overview-summary = Komuna që kërkojnë vëmendje tani: { $bad }; që duhen parë: { $warn }.
dash-trouble-halted = { $node } ka ndalur regjistrimin: { $why }
dash-trouble-refused = { $node } u refuzua nga shtrirja
dash-trouble-blocked = { $node } e bllokuar: veprimi #{ $seq } ({ $record }) refuzuar përgjithmonë; shihni `civreg-hub refused`
dash-trouble-revoked = { $node }: certifikata u revokua
dash-trouble-not-reaching = { $node } nuk arrin te qendra
dash-trouble-never = { $node } asnjëherë e dëgjuar
dash-trouble-waiting = { $node } ka { $n } veprime në pritje
dash-trouble-clock = { $node }: ora është gabim
dash-trouble-cert-expired = { $node }: certifikata ka skaduar
dash-trouble-cert-expires = { $node }: certifikata skadon { $days ->
    [one] pas { $days } dite
   *[other] pas { $days } ditësh
}
dash-trouble-conflicts = { $n } konflikte të hapura
dash-trouble-duplicates = { $n } dyfishime të hapura
dash-node-title = Nyja { $node }
dash-node-last-seen = Parë për herë të fundit
dash-node-version = Versioni
dash-node-acked = Veprimi i fundit i konfirmuar
dash-node-waiting = Veprime në pritje
dash-node-clock = Diferenca e orës
dash-node-disk = Disku i lirë
dash-node-cert = Certifikata
dash-node-cert-expires = skadon më { $date }
dash-node-cert-serial = numri serik { $serial }
dash-node-cert-none = asnjë certifikatë aktive
dash-node-interval = Intervali i sinkronizimit
dash-node-interval-window = nuk arrin te qendra pas { $window } pa sinjal jete
dash-node-interval-untold = nyja nuk e ka treguar
dash-node-last-day = Dita e fundit
dash-node-chart-help = Shtyllat: veprimet e konfirmuara nga qendra për orë. Vija: vonesa (mosha e veprimit më të vjetër në pritje). Matur çdo { $every } në kujtesë: historiku nis nga e para kur qendra rindizet ({ $samples } matje deri tani).
dash-node-errors = Gabimet dhe refuzimet e fundit
dash-node-halted = ka ndalur regjistrimin: { $why }
dash-node-no-errors = asnjë që kur u ndez qendra
dash-node-blocked = E bllokuar
dash-node-blocked-why = Qendra e refuzon përgjithmonë veprimin #{ $seq } (akti { $record }): { $why }
dash-node-blocked-help = Gjithçka që kjo zyrë ruajti pas tij pret. Pasi ta lexojë arsyen me zyrën, një operator mund ta lërë mënjanë veprimin (hash { $hash }):
dash-node-aside = Veprime të lëna mënjanë
dash-node-aside-item = veprimi #{ $seq } u la mënjanë nga { $by } më { $at }: { $reason }
dash-chart-label = veprime të konfirmuara për orë dhe vonesa, 24 orët e fundit
dash-chart-bar = { $n } veprime të konfirmuara, vonesa { $lag }
dash-chart-not-sampled = pa matje
dash-chart-ops = veprime/orë (maks. { $max })
dash-chart-lag = vonesa (maks. { $max })
dash-chart-day-ago = para 24 orësh
dash-chart-now = tani
dash-conflicts-open = Konflikte të hapura
dash-conflicts-all = Të gjitha konfliktet
dash-conflicts-open-of = Konflikte të hapura të { $m }
dash-conflicts-all-of = Të gjitha konfliktet e { $m }
dash-conflicts-open-only = Vetëm të hapurat
dash-conflicts-include-resolved = Përfshini edhe të zgjidhurat
dash-conflicts-none = Asnjë konflikt.
dash-conflicts-a = A (e mbajtur për tani)
dash-conflicts-back = Të gjitha konfliktet e hapura
dash-conflict = Konflikti
dash-conflict-record = Akti
dash-conflict-field = fusha
dash-conflict-explain = dy zyra e shkruan pa e parë ndryshimin e njëra-tjetrës.
dash-conflict-a-head = A: e mbajtur për tani (shkrimi i mëvonshëm)
dash-conflict-b-head = B: lënë mënjanë
dash-conflict-side = nga { $clerk } në nyjen { $node } (veprimi { $op })
dash-conflict-resolved-by = Zgjidhur nga
dash-conflict-resolve-as = Zgjidheni, si { $name }
dash-conflict-keep-a = Mbaj A
dash-conflict-keep-b = Mbaj B
dash-conflict-keep-a-void = Mbaj A (anulimin)
dash-conflict-keep-b-edit = Mbaj B (ndryshimin: riktheje aktin)
dash-conflict-other = Një vlerë tjetër
dash-conflict-other-value = Vlera tjetër
dash-conflict-reason = Arsyeja (ruhet me historikun e aktit)
dash-conflict-submit = Regjistro vendimin
dash-dups-open = Dyfishime të hapura
dash-dups-all = Të gjitha rastet e dyfishimeve
dash-dups-open-of = Dyfishime të hapura të { $m }
dash-dups-all-of = Të gjitha rastet e dyfishimeve të { $m }
dash-dups-intro = Çifte personash që krahasuesi i gjeti të jenë me gjasë i njëjti person, në regjistër dhe ndër përputhjet e mundshme të një importi. Hapni një rast për të krahasuar të dy aktet, pastaj lidhini (një identifikues personi) ose hidheni poshtë rastin (persona të ndryshëm). Më të fortat së pari.
dash-dups-command = Regjistri kontrollohet për dyfishime me
dash-dups-every-municipality = çdo komunë
dash-dups-include-decided-box = përfshini rastet e vendosura
dash-dups-show = Shfaq
dash-dups-none = Asnjë dyfishim nuk pret shqyrtim.
dash-dups-none-all = Asnjë rast dyfishimi.
dash-dups-count = { $n ->
    [one] { $n } rast.
   *[other] { $n } raste.
}
dash-dups-case = Rasti
dash-dups-weight = Pesha
dash-dups-probability = Probabiliteti
dash-dups-class = Klasa
dash-dups-found-by = Gjetur nga
dash-dups-a = A (në regjistër)
dash-dups-b = B (gjetur si dyfishim i tij)
dash-dups-municipalities = Komunat
dash-dups-filed = Regjistruar
dash-dups-open-only = Vetëm rastet e hapura
dash-dups-include-decided = Përfshini rastet e vendosura
dash-dups-back = Të gjitha dyfishimet e hapura
dash-dup-title = Rast dyfishimi
dash-dup-status-open = i hapur
dash-dup-status-linked = i lidhur
dash-dup-status-dismissed = i hedhur poshtë
dash-dup-status-unlinked = i shkëputur
dash-dup-found = Krahasuesi ({ $source }) i gjeti këto të jenë me gjasë i njëjti person:
dash-dup-weight = pesha
dash-dup-probability = probabiliteti { $p } %
dash-dup-class = klasa
dash-dup-filed = Regjistruar më { $at }; komunat { $ms }.
dash-dup-person = Personi
dash-dup-role = Roli
dash-dup-pid = Identifikuesi i personit
dash-dup-voided = anuluar nga { $clerk }: { $reason }
dash-dup-same = A dhe B kanë të njëjtin identifikues personi: janë një person.
dash-dup-different = A dhe B kanë identifikues të ndryshëm personi. Rreshtat që ndryshojnë janë të theksuar.
dash-dup-records = Dy aktet
dash-dup-people = Personat dhe identifikuesit e tyre
dash-dup-linked-by = lidhur nga { $clerk } (veprimi { $op })
dash-dup-decisions = Vendimet
dash-dup-no-decisions = Ende asnjë.
dash-dup-decision = Vendimi
dash-dup-operator = Operatori
dash-dup-when = Kur
dash-dup-reason = Arsyeja
dash-dup-ops = Veprimet
dash-dup-decided-open = Rihapur nga
dash-dup-decided-linked = Lidhur nga
dash-dup-decided-dismissed = Hedhur poshtë nga
dash-dup-decided-unlinked = Shkëputur nga
dash-dup-decide-as = Vendosni, si { $name }
dash-dup-reason-label = Arsyeja (ruhet në historikun e rastit dhe në veprimin e lidhjes)
dash-dup-link = Lidh: një person
dash-dup-dismiss = Hidh poshtë: persona të ndryshëm
dash-dup-unlink = Shkëput: B merr përsëri identifikuesin e vet
dash-dup-closed = Ky rast është vendosur; këtu nuk mund të bëhet asgjë më me të.
dash-dup-not-recorded = Nuk u regjistrua
dash-dup-back-to-case = Kthehu te rasti
dash-rollout-intro = E planifikuar: asnjë nyje nuk mund të lidhet. Pilot dhe aktive: sinkronizim i plotë. E pezulluar: nyjet mund të marrin, por jo të dërgojnë (vazhdojnë të regjistrojnë dhe dërgojnë kur rifillon). Një ndryshim vlen menjëherë dhe regjistrohet me emrin dhe arsyen tuaj.
dash-rollout-kinds = Llojet e akteve
dash-rollout-last-change = Ndryshimi i fundit
dash-rollout-change-to = Ndrysho në
dash-rollout-changed = { $at } nga { $by }
dash-rollout-default = parazgjedhje
dash-rollout-stage-of = Faza e { $m }
dash-rollout-reason = arsyeja
dash-rollout-reason-of = Arsyeja e ndryshimit për { $m }
dash-rollout-change = Ndrysho
dash-verify-title = Verifikimi i certifikatës
dash-verify-intro = Skanoni kodin QR të certifikatës dhe ngjitni tekstin e tij këtu.
dash-verify-qr-label = Teksti i kodit QR
dash-verify-check = Verifiko
dash-verify-valid = E VLEFSHME
dash-verify-invalid = JO E VLEFSHME
dash-verify-pending = E PAKONFIRMUAR
dash-verify-signed-by = nënshkruar nga { $signer }
dash-verify-pending-why = nënshkrimi i { $signer } është i vërtetë, por zyra nuk e ka raportuar ende këtë certifikatë: lëshuar jashtë linje më { $date }.
dash-verify-last-reported = Certifikata e fundit e raportuar nga { $office }: { $serial }.
dash-verify-none-reported = { $office } nuk ka raportuar ende asnjë certifikatë.
dash-verify-claims = Të dhënat e nënshkruara
dash-verify-claim-serial = Numri serik
dash-verify-claim-record = Akti
dash-verify-claim-kind = Lloji
dash-verify-claim-issued = Lëshuar
dash-verify-claim-office = Zyra
dash-verify-claim-version = Versioni i aktit
dash-verify-claim-event-date = Data e ngjarjes
dash-verify-claim-event-place = Vendi i ngjarjes
dash-verify-not-held = Agjencia nuk e ka marrë ende këtë akt nga zyra e tij: gjendja e tij e tanishme nuk mund të krahasohet.
dash-verify-reported = Zyra lëshuese e ka raportuar këtë certifikatë në agjenci.
dash-verify-not-reported = Nëse keni dyshime, pyesni zyrën lëshuese: ajo raporton çfarë ka lëshuar kur lidhja e saj me agjencinë punon përsëri.
dash-refusal-undecodable = kodi nuk mund të lexohet si certifikatë civreg: { $why }
dash-refusal-unknown-signer = nënshkruar me një çelës që lista e besimit nuk e njeh (id e çelësit { $kid }); nëse certifikata është e re, provoni përsëri më vonë
dash-refusal-bad-signature = nënshkrimi nuk përputhet me përmbajtjen: certifikata është ndryshuar ose falsifikuar
dash-refusal-signer-expired = nënshkruar nga { $signer } më { $issued }, jashtë vlefshmërisë së tij ({ $from } deri { $to })
dash-refusal-signer-revoked = nënshkruesi { $signer } u revokua më { $at }: agjencia nuk garanton më për asgjë që ka nënshkruar
dash-refusal-foreign-serial = nënshkrimi i { $signer } është i vërtetë, por zyra e certifikuar është { $office } dhe numri serik { $serial } nuk është nga ata që ajo lëshon: certifikata është bërë jashtë regjistrit
dash-refusal-unknown-serial = numri serik { $serial } nuk është në regjistrin e agjencisë: zyra e tij ka raportuar që atëherë certifikata të lëshuara pas kësaj, por jo këtë
dash-refusal-cancelled = certifikata u anulua më { $at }: { $reason }
dash-refusal-record-voided = akti { $regno } u anulua pasi u lëshua kjo certifikatë
dash-refusal-record-amended = akti { $regno } u ndryshua pasi u lëshua kjo certifikatë (versioni { $issued } atëherë, { $now } tani): kërkoni një certifikatë të re
