# civreg: каталог порука, српски (ћирилица).

app-title = Матичне књиге
app-office = Канцеларија { $office }
lang-label = Језик
lang-apply = Примени
skip-to-main = Пређи на садржај

## Prijava
nav-home = Почетак
nav-search = Претрага
nav-register-birth = Упиши рођење
nav-register-marriage = Упиши венчање
nav-register-death = Упиши смрт
sign-in = Пријави се
sign-in-title = Пријава у матичне књиге
sign-out = Одјави се
signed-in-as = Пријављен као { $clerk }
clerk-name = Име службеника
password = Лозинка
sign-in-failed = Непознат службеник или погрешна лозинка. Покушајте поново.
sign-in-throttled = Превише погрешних лозинки: пријава је одбијена на { $seconds } с. Покушајте касније; ако сте заборавили лозинку, тражите нову од администратора.
sign-in-busy = Превише пријава у исто време. Покушајте поново за неколико секунди.
signed-out = Одјавили сте се.
session-expired = Ваша сесија је истекла. Пријавите се поново.

## Statusna traka
status-title = Веза са центром
status-online = На мрежи
status-offline = Ван мреже: рад се наставља и шаље се када се веза врати
status-not-enrolled = Није уписано у центар
status-waiting = { $count ->
    [one] { $count } чека
    [few] { $count } чекају
   *[other] { $count } чека
}
status-oldest = најстарији { $minutes } мин
status-last-sync = последња синхронизација { $when }
status-never = још није синхронизовано
status-hub = центар у употреби: { $host }
status-refused = Центар одбија ову канцеларију: { $reason }. Позовите агенцију.
status-halted = Ова канцеларија је престала са уписом: { $reason }. Позовите агенцију.
status-cert-expires = Сертификат канцеларије истиче за { $days } дана: тражите нови од агенције.
status-cert-expired = Сертификат канцеларије је истекао: тражите нови од агенције.

## Početak
home-title = Данас у канцеларији
home-records = Уписа у овој канцеларији: { $count }
home-start = Шта желите да урадите?

## Obrasci
section-record = Упис
section-child = Дете
section-mother = Мајка
section-father = Отац (није обавезно)
section-register = Папирна матична књига (није обавезно)
section-spouse1 = Први супружник
section-spouse2 = Други супружник
section-marriage = Венчање
section-deceased = Преминули
section-death = Смрт
section-numbers = Лични бројеви (није обавезно)
f-given-name = Име
f-surname = Презиме
f-maiden-surname = Девојачко презиме
f-father-given-name = Име оца
f-date-of-birth = Датум рођења
f-sex = Пол
sex-none = (није наведено)
sex-male = Мушки
sex-female = Женски
f-jmbg = ЈМБГ
f-kosovo = Лични број Косова
f-albanian = Лични број Албаније
f-place-of-birth = Место рођења
f-book = Књига
f-year = Година
f-page = Страна
f-entry = Редни број
f-notes = Напомене
f-surname-before = Презиме пре венчања
f-surname-after = Презиме после венчања
f-date-of-marriage = Датум венчања
f-place-of-marriage = Место венчања
f-date-of-death = Датум смрти
f-place-of-death = Место смрти
date-hint = нпр. 14.03.1968 или 1968-03-14
place-hint = Било које име места, било којим писмом: Prishtinë, Priština, Приштина
place-known = { $place } ({ $code })
save = Сачувај
saved = Сачувано као { $regno }.
saved-warnings = Сачувано са упозорењима.
form-problems = Упис није сачуван. Исправите поља означена испод.
form-warnings = Проверите упозорења испод. Да бисте ипак сачували, означите поље и сачувајте поново.
confirm-warnings = Проверио сам упозорења и желим да сачувам упис какав јесте
form-already-saved = Овај образац је већ сачуван, као { $regno }: није уписан два пута.
form-date = Напишите датум као 14.03.1968 или 1968-03-14.
form-number = Напишите цео број.
form-register-incomplete = Наведите књигу, годину, страну и редни број папирне књиге, или ништа од тога.
form-shape = Упис није могао да се прочита: { $detail }
form-reason-required = Наведите разлог.
form-stale = Овај упис је промењен откако сте отворили образац (сада верзија { $version }). Ништа није сачувано: погледајте упис какав је сада и поновите измену.
jmbg-live-mismatch = ЈМБГ се не слаже са уписаним датумом рођења или полом.

## Pretraga
search-title = Претрага
search-label = Имена, године, места или лични број
search-button = Тражи
search-born = Година рођења (нпр. 1968 или 1960..1970)
search-municipality = Општина
search-kind = Врста
kind-any = било која
search-local = Локални одговор: само уписи ове канцеларије.
search-national = Национални одговор: регистар центра.
search-none = Ништа није пронађено.
search-count = { $count ->
    [one] Пронађен { $count } упис
    [few] Пронађена { $count } уписа
   *[other] Пронађено { $count } уписа
}
search-not-here = Чува се у центру, не у овој канцеларији.
search-bad-born = Напишите годину рођења као 1968, 1968-03-14 или 1960..1970.
search-too-long = Претрага је предугачка (највише 12 речи): скратите је.

## Upisi
kind-birth = Рођење
kind-marriage = Венчање
kind-death = Смрт
record-title = Упис { $regno }
record-void = ПОНИШТЕН: { $reason }
record-fields = Поља
record-history = Историја
record-version = Верзија { $version }
record-change-create = уписано
record-change-amend = измењено
record-change-void = поништено
record-change-annotate = забележено
record-change-link = повезано
record-change-restore = враћено
record-by = службеник { $clerk }
record-reason = Разлог: { $reason }
record-sync = Синхронизација
record-sync-hub = У центру
record-sync-here = Сачувано овде, чека центар
record-conflicts = Отворени сукоби: { $count }
record-amend = Измени
record-void-action = Поништи
amend-title = Измена { $regno }
void-title = Поништавање { $regno }
f-reason = Разлог
void-confirm = Поништи упис
amended = Измењено.
voided = Поништено.
unvoid-title = Затражите од агенције враћање уписа { $regno }
unvoid-confirm = Пошаљи захтев
unvoid-asked = Захтев иде агенцији са следећом синхронизацијом.
no-change = Ништа није промењено: упис је остао исти.

## Greške
err-title = Нешто није у реду
err-csrf = Образац је истекао или није дошао из ове апликације. Вратите се, поново учитајте страну и покушајте опет.
err-too-large = Послато је превелико (највише { $kib } KiB). Ништа није сачувано.
err-not-found = Није пронађено: { $what }
err-bad-request = Захтев није могао да се прочита: { $detail }
err-internal = Унутрашња грешка. Ништа није изгубљено; покушајте поново и јавите администратору ако се понавља.
err-refused = Није сачувано: { $detail }
err-host = Ова апликација одговара само на имена за која је подешена: отворите је као http://localhost:PORT или под подешеним именом.
back-home = Назад на почетак

## Provera (po jedna za svaki kod iz shared::validate::ALL_CODES)
v-municipality-unknown = Непозната општина: изаберите једну са списка.
v-name-required = Име је обавезно.
v-name-illegible = Име сме да се означи као нечитко само у централном увозу историјских страница регистра: унесите име како је написано.
v-name-characters = Име сме да садржи само слова, без цифара и знакова.
v-name-too-long = Име је предугачко (највише 100 слова).
v-text-too-long = Текст је предугачак (највише 2.000 слова).
v-place-required = Место је обавезно.
v-birth-date-required = Датум рођења детета је обавезан.
v-birth-sex-required = Пол детета је обавезан.
v-date-future = Датум је у будућности.
v-death-before-birth = Датум смрти је пре датума рођења.
v-parent-too-young = Родитељ би био мање од 12 година старији од детета: проверите оба датума.
v-spouse-born-after-marriage = Супружник је рођен после венчања: проверите оба датума.
v-spouse-under-16 = Супружник је имао мање од 16 година при венчању.
v-spouse-under-18 = Супружник је имао мање од 18 година при венчању: проверите датуме.
v-register-book-required = Књига је обавезна.
v-register-year-range = Година књиге мора бити између 1900 и ове године.
v-register-page = Страна мора бити број од 1 навише.
v-register-entry = Редни број мора бити број од 1 навише.
v-register-year-before-event = Година књиге је пре догађаја који бележи.
v-jmbg-length = ЈМБГ има 13 цифара.
v-jmbg-character = ЈМБГ садржи само цифре.
v-jmbg-date = Првих седам цифара ЈМБГ нису прави датум.
v-jmbg-region = Регион у ЈМБГ (цифре 8 и 9) није у употреби.
v-jmbg-checksum = Контролна цифра ЈМБГ није исправна: проверите број у документу.
v-jmbg-check-ten = Контролна цифра ЈМБГ је 0 где рачунање даје 10: потврдите број у документу.
v-jmbg-date-mismatch = ЈМБГ се не слаже са датумом рођења.
v-jmbg-sex-mismatch = ЈМБГ се не слаже са полом.
v-jmbg-duplicate = Исти ЈМБГ је наведен за две особе у упису.
v-kosovo-length = Лични број Косова има 10 цифара.
v-kosovo-character = Лични број Косова садржи само цифре.
v-kosovo-checksum = Последња цифра личног броја Косова се не слаже са уобичајеном провером: потврдите је у документу.
v-albanian-length = Лични број Албаније је слово, 8 цифара и слово.
v-albanian-character = Лични број Албаније је слово, 8 цифара и слово.
v-albanian-decade = Прво слово личног броја Албаније није позната деценија.
v-albanian-date = Лични број Албаније не садржи прави датум.
v-albanian-checksum = Контролно слово личног броја Албаније није исправно.
v-albanian-date-mismatch = Лични број Албаније се не слаже са датумом рођења.
v-albanian-sex-mismatch = Лични број Албаније се не слаже са полом.
v-op-record-id = Матични број уписа није исправан.
v-op-kind = Врста уписа се не слаже са његовим бројем.
v-op-too-many-changes = Превише поља се мења одједном.
v-op-too-large = Измена је превелика.
v-op-clerk = Име службеника није исправно.
v-op-reason-too-long = Разлог је предугачак.
v-op-changes = Измена није исправна.
v-record-shape = Упис није могао да се прочита.
v-field-unknown = Непознато поље.
v-field-value = Вредност није исправна за ово поље.
v-field-required = Ово поље је обавезно.
v-field-municipality = Општина уписа не може да се мења.
v-annotation-path = Забелешка није исправна.
v-annotation-office = Забелешка припада другој канцеларији.
v-annotation-incomplete = Забелешка је непотпуна.
v-annotation-event = Непознат догађај за забелешку.
v-annotation-record = Број уписа у забелешци није исправан.

## Printing a certificate from the record page
cert-title = Штампање извода
cert-lang = Језик извода
cert-lang-sq = Албански, па српски
cert-lang-sr = Српски, па албански
cert-lang-en = Албански и српски, уз енглески
cert-collector = Ко преузима (име и презиме)
cert-collector-hint = Како пише у личном документу који је показао. Не уписујте број документа.
cert-id-document = Показани лични документ
cert-id-id-card = Лична карта
cert-id-passport = Пасош
cert-id-driving-licence = Возачка дозвола
cert-id-residence-permit = Дозвола боравка
cert-id-other = Друго
cert-print = Штампај извод (PDF)
cert-no-signer = Ова канцеларија још нема потписника докумената, па не може да штампа изводе. Затражите га од агенције.
cert-void = Упис је поништен: за њега се извод не издаје.
cert-collector-required = Упишите име особе која преузима извод, како пише у њеном документу, без посебних знакова.
cert-id-required = Изаберите врсту показаног личног документа.
cert-lang-required = Изаберите језик извода.
cert-printed = Одштампани изводи
cert-serial = Серијски број
cert-when = Када
cert-by = Службеник
cert-for = За
cert-version = Верзија уписа
cert-none = Још ниједан извод није одштампан.

## The duplicate check before saving a birth or death
dupes-title = Можда је већ уписано
dupes-intro = Ови уписи личе на онај који уносите. Ако је иста особа, отворите постојећи упис; иначе потврдите да је ово нови упис.
dupes-count = { $count ->
    [one] { $count } сличан упис
    [few] { $count } слична уписа
   *[other] { $count } сличних уписа
}
dupes-typed = Оно што сте унели
dupes-record = Упис
dupes-people = Особе
dupes-open = Отвори постојећи упис
dupes-new = Друга је особа: сачувај као нови упис
record-dupes-checked = Проверено због дупликата: { $regnos } су били слични; службеник је потврдио нови упис.

## Today's work on the start page
today-title = Данашњи рад
today-summary = Уноса данас: { $count }. Чека слање агенцији: { $waiting }.
today-mine = Моји
today-office = Остали у овој канцеларији
today-time = Време
today-change = Шта
today-clerk = Службеник

## Noting an event on a birth record (annotation)
annotate-title = Белешка о догађају
annotate-heading = Белешка о догађају на упису { $regno }
annotate-intro = Белешка уписује на извод рођења брак, смрт или развод уписан негде другде. Не мења ниједно поље самог уписа.
annotate-link = Забележи догађај
annotate-event = Догађај
annotate-event-marriage = Брак
annotate-event-death = Смрт
annotate-event-divorce = Развод
annotate-event-other = Друго
annotate-date = Датум догађаја
annotate-place = Место догађаја
annotate-record = Број уписа догађаја
annotate-record-hint = Број уписа брака или смрти, ако је уписан.
annotate-text = Напомена
annotate-save = Сачувај белешку
annotate-sent = Белешка је сачувана. Шаље се агенцији при следећој синхронизацији.
annotate-event-required = Изаберите догађај.
annotate-not-known = Овај упис овде није познат: прво га пронађите националном претрагом док веза ради, па забележите догађај из одговора.
annotate-bad-regno = Ово није број уписа.
annotated = Белешка је сачувана.

## Importing a CSV of register pages
import-title = Увоз CSV
import-intro = Изаберите CSV датотеку са странама матичне књиге (колоне као за `civreg-node import`; раздвајач , ; или таб; датуми као 14.03.1968). До { $mib } MiB. Одбијени редови се приказују овде са бројем реда и разлозима; ништа се не увози двапут.
import-file = CSV датотека
import-start = Увези
import-busy = Увоз у току…
import-line = Ред
import-reasons = Разлози
import-download = Преузми извештај
import-noscript = Ова страна тражи JavaScript; иначе користите `civreg-node import`.
import-summary = Редова: { $rows }. Увезено: { $accepted }. Већ увезено раније: { $skipped }. Одбијено: { $rejected }.
import-too-large = Датотека је већа од { $mib } MiB: поделите је на више датотека.
import-empty = Датотека је празна.
import-not-csv = Ово није CSV (текстуална) датотека: сачувајте је као CSV и покушајте поново.
import-unreadable = Датотека не може да се прочита: { $detail }

## Task upload (session 11): CSV import progress, rows' reasons in the clerk's language
import-r-field = { $field }: { $problem }
import-r-cells = Ред има { $cells } ћелија, а заглавље { $columns } колона: недостаје или је вишак раздвајач, или је ред пресечен?
import-r-kind = Врста "{ $value }" није birth, marriage ни death.
import-r-number = "{ $value }" није цео број.
import-r-value = вредност не може да се прочита: проверите је (датуми као 14.03.1968 или 1968-03-14, пол као male или female).
import-r-municipality = Ова канцеларија уписује само акте општине { $own }, а ред наводи { $given }.
import-r-unreadable = Ред не може да се прочита: проверите наводнике и сачувајте датотеку као CSV UTF-8.
import-r-double = Могућ двоструки упис: исти као ред { $line } и без података о матичној књизи; увезен је, проверите страну матичне књиге.
import-r-already = Већ увезено као { $regno }.
import-r-repeated = Исти упис у матичну књигу (књига, година, страна, упис) као у ранијем реду ове датотеке.
import-running = Увоз је већ у току у овој канцеларији (покренуо га је { $clerk }, прочитано редова: { $read }): сачекајте да се заврши, па увезите ову датотеку.
import-job-gone = Овај увоз више није познат (извештаји се чувају један сат): увезите датотеку поново; редови који су већ увезени се прескачу.
import-status = Стање
import-status-rejected = Одбијен
import-status-check = Увезен као { $regno }, проверите
import-status-skipped = Увезен раније
import-reading = Прочитано редова: { $read } од { $total }
import-counting = Броје се редови датотеке…
import-sending = Шаље се датотека: { $percent }%
import-lost = Веза са апликацијом канцеларије је прекинута: поново учитајте страну и увезите датотеку поново; ништа се не увози двапут.
import-unlisted = Извештај наводи само првих { $listed } редова сваке врсте; остали су пребројани у резимеу. Исправите ове редове и увезите датотеку поново.
import-h-none = Датотека нема ред заглавља: први ред мора да именује колоне (kind, child.given_name, …).
import-h-no-kind = Заглавље нема колону kind (наводи { $found }): додајте је, са birth, marriage или death за сваки ред.
import-h-unknown = Ниједна колона заглавља није позната (наводи { $found }): очекују се kind и поља као child.given_name; раздвајач мора бити , ; или таб.
import-h-twice = Заглавље двапут наводи колону { $column }: уклоните једну.
import-h-bad-column = Колона { $column } није познато поље: погледајте колоне увоза (README, "Bulk import").
## Оператерски панел централе (задатак dash: свака страница панела из каталога)
dash-app = civreg централа
dash-nav = Панел
dash-nav-overview = Преглед
dash-nav-conflicts = Конфликти
dash-nav-duplicates = Дупликати
dash-nav-rollout = Увођење
dash-nav-metrics = Метрике
dash-signed-in-as = пријављен као
dash-sign-out = Одјава
dash-back-overview = Назад на преглед
dash-signin-title = Пријава
dash-signin-name = Оператер
dash-signin-password = Лозинка
dash-signin-submit = Пријави се
dash-signin-no-accounts = Још не постоји ниједан налог оператера: направите га на рачунару централе командом
dash-signin-expired = Образац за пријаву је истекао: покушајте поново.
dash-signin-wrong = погрешно име оператера или лозинка
dash-signin-impossible = пријава није могућа: { $detail }
dash-signin-busy = превише пријава одједном: покушајте поново за минут
dash-signin-throttled = Превише погрешних лозинки: пријава је одбијена на { $secs } с. Покушајте касније.
dash-signin-throttled-hint = Ако сте заборавили лозинку, затражите нову:
dash-err-title = Нешто није у реду
dash-err-not-found = Није пронађено
dash-err-forbidden = Одбијено
dash-err-conflict = Већ урађено
dash-err-bad-request = Проверите образац
dash-err-busy = Заузето
dash-err-csrf = одбијено: образац је истекао или није дошао са овог панела; поново учитајте страницу и покушајте опет
dash-err-internal = унутрашња грешка: { $detail }
dash-err-access-log = дневник приступа није могао да се упише, па се уписи не приказују: { $detail }
dash-err-no-node = централа не познаје чвор { $node }
dash-err-no-conflict = нема конфликта { $id }: списак конфликата приказује отворене
dash-err-conflict-resolved = конфликт { $id } је већ разрешен, разрешио { $by }
dash-err-conflict-reason = одлука захтева разлог: чува се са историјом уписа
dash-err-conflict-invalid = са том вредношћу упис { $regno } не би био исправан: { $why }
dash-err-no-case = нема случаја дупликата { $id }: списак дупликата их приказује
dash-err-case-decided = случај { $id } је већ решен: { $status }, { $by }
dash-err-case-not-linked = случај { $id } није повезан: само повезан случај може да се раздвоји
dash-err-choose-side = изаберите А, Б или другу вредност, па забележите одлуку
dash-err-choose-decision = изаберите повезивање, одбацивање или раздвајање, па забележите одлуку
dash-err-decision-reason = наведите разлог: свака одлука се чува са својим разлогом у историји случаја
dash-err-unknown-stage = непозната фаза { $stage }: изаберите планирано, пилот, активно или обустављено
dash-err-stage-reason = промена фазе захтева разлог: чува се у дневнику увођења
dash-err-unknown-municipality = непозната општина { $code }: изаберите једну са списка (кодови као у прегледу, нпр. prishtine)
dash-dur-s = { $n } с
dash-dur-min = { $n } мин
dash-dur-h = { $n } ч
dash-dur-days = { $n ->
    [one] { $n } дан
   *[other] { $n } дана
}
dash-ago = пре { $ago }
dash-seen-ago = виђен пре { $ago }
dash-never-seen = никад виђен
dash-never = никад
dash-by = ({ $name })
dash-ops = { $n ->
    [one] { $n } операција
    [few] { $n } операције
   *[other] { $n } операција
}
dash-oldest = најстарија { $ago }
dash-lag = кашњење { $ago }
dash-op = операција { $op }
dash-open = отворен
dash-record = упис { $id }
dash-reason-is = разлог: { $reason }
dash-resolved-by = разрешио { $name }
dash-no-node = нема чвора
dash-cert-expired = истекао
dash-cert-in-days = { $days ->
    [one] за { $days } дан
   *[other] за { $days } дана
}
dash-stage-planned = планирано
dash-stage-pilot = пилот
dash-stage-live = активно
dash-stage-suspended = обустављено
dash-state-revoked = опозван
dash-state-expired = сертификат истекао
dash-state-forked = разгранат
dash-state-online = на вези
dash-state-offline = не допире до централе
dash-state-never = никад се није јавио
dash-kind-birth = рођење
dash-kind-marriage = брак
dash-kind-death = смрт
dash-col-municipality = Општина
dash-col-stage = Фаза
dash-col-nodes = Чворови
dash-col-waiting = Операције на чекању
dash-col-acked = Потврђено, кашњење
dash-col-conflicts = Отворени конфликти
dash-col-duplicates = Отворени дупликати
dash-col-cert = Најближи истек сертификата
dash-col-refusal = Одбијање увођења
dash-col-clock = Сат
dash-col-attention = Пажња
dash-col-record = Упис
dash-col-field = Поље
dash-col-state = Стање
dash-now-title = Чека вас сада
dash-now-all-well = Ништа вас сада не чека: свака канцеларија у пилоту или активна допире до централе, ниједан ред није заглављен, ништа није одбијено и не чека ниједан конфликт, дупликат ни сертификат.
dash-now-municipalities = Општине
dash-now-waiting = { $n } на чекању
dash-now-rule = Канцеларија "не допире до централе" када пропусти два своја круга синхронизације (канцеларије старијих верзија: без знака живота { $window }). Операције на чекању су онако како их је пребројао последњи знак живота канцеларије.
dash-now-refresh = Ова страница се поново учитава сваких { $secs } с; ажурирано { $updated }.
dash-now-updated = Ажурирано { $updated }.
dash-refresh-pause = Не учитавај више ову страницу сваких { $secs } с
dash-refresh-resume = Учитавај ову страницу сваких { $secs } с
dash-now-last-heard = последњи пут се јавио пре { $ago }
dash-now-revoked = { $node }: сертификат опозван
dash-now-expired = { $node }: сертификат истекао
dash-now-expired-detail = не може да се синхронизује док се поново не упише
dash-now-halted = { $node } је престао да уписује
dash-now-upgrade = { $node } мора да се надогради: њен ток чека код уписа који њена верзија не може да прочита
dash-now-refused = { $node } одбијен: { $why }
dash-now-refused-detail = пре { $ago }, до његовог следећег успешног круга
dash-now-blocked = { $node } блокиран на операцији #{ $seq } ({ $record })
dash-now-blocked-detail = трајно одбијена; погледајте `civreg-hub refused`
dash-now-not-reaching = { $node } не допире до централе
dash-now-not-reaching-detail = { $seen }; пропустио је два круга (сваких { $every })
dash-now-queue = { $node }: { $n } операција на чекању, најстарија { $ago }
dash-now-queue-detail = централа има до #{ $seq }
dash-now-queue-heartbeat = (према његовом знаку живота пре { $ago })
dash-now-cert-expires = { $node }: сертификат истиче { $days ->
    [one] за { $days } дан
   *[other] за { $days } дана
}
dash-now-cert-on = дана { $date }
dash-now-conflicts = { $n ->
    [one] { $n } конфликт за разрешавање
   *[other] { $n } конфликата за разрешавање
}
dash-now-duplicates = { $n ->
    [one] { $n } могући дупликат за преглед
   *[other] { $n } могућих дупликата за преглед
}
dash-now-unvoid = { $n ->
    [one] { $n } захтев службеника за враћање поништеног уписа чека одговор
    [few] { $n } захтева службеника за враћање поништеног уписа чекају одговор
   *[other] { $n } захтева службеника за враћање поништеног уписа чека одговор
}
dash-now-unvoid-detail = Одговорите на сваки на страници захтева за враћање (или са `civreg-hub unvoid-request`).
dash-now-backup-failed = { $node }: последња резервна копија није успела
dash-now-backup-overdue = { $node } није направио резервну копију већ { $ago }
dash-now-backup-overdue-detail = Канцеларије праве једну дневно: проверите диск за копије у канцеларији (тамо `civreg-node status`). Наводи се после { $hours } сати без копије.
dash-now-hub-backup-failed = Последња резервна копија центра није успела (пре { $ago }): поново покрените `civreg-hub backup --out DIR` када се узрок отклони
dash-now-rollover = Замена CA је у току од { $since }: канцеларија само са старим CA: { $n }
dash-now-rollover-detail = { $offices }. Затражите њихову обнову (`civreg-hub pki require-renewal`); видите `civreg-hub pki rollover status`.
dash-now-rollover-hub = Замена CA од { $since }: све канцеларије су на новом CA, али центар и даље представља сертификат старог CA
dash-now-rollover-hub-detail = Припремите сертификат новог CA са `civreg-hub pki renew-hub --stage`, затим га активирајте са `--activate`.
dash-now-rollover-finish = Замена CA од { $since } је спремна за завршетак
dash-now-rollover-finish-detail = Завршите је са `civreg-hub pki rollover finish`: стари CA се повлачи.
dash-now-rollover-finish-operators = Завршите је са `civreg-hub pki rollover finish`; сертификати ових оператера тада престају да важе: { $operators }
dash-now-hub-staged = Нови сертификат центра (важи до { $until }) је припремљен и још се не представља
dash-now-hub-staged-detail = Канцеларије се о њему обавештавају синхронизацијом; активирајте га са `civreg-hub pki renew-hub --activate`.
dash-nav-unvoid = Захтеви за враћање
dash-unvoid-title = Захтеви службеника за враћање поништеног уписа
dash-unvoid-intro = Службеник је поништио упис и тражи да се врати. Одобрење враћа упис уносом у дневник центра, који стиже до канцеларија са њиховом следећом синхронизацијом; одбијање га оставља поништеним. У оба случаја канцеларија чита ваш разлог.
dash-unvoid-done-granted = Одобрено: упис { $regno } је враћен; канцеларија { $office } га добија са следећом синхронизацијом.
dash-unvoid-done-refused = Одбијено: канцеларија { $office } чита ваш разлог са следећом синхронизацијом; упис { $regno } остаје поништен.
dash-unvoid-none = Ниједан захтев не чека одговор.
dash-unvoid-count = { $n ->
    [one] { $n } захтев чека одговор.
    [few] { $n } захтева чекају одговор.
   *[other] { $n } захтева чека одговор.
}
dash-unvoid-shown = Приказано је првих { $n }; одговорите на њих и поново учитајте страницу за остале.
dash-unvoid-record = Упис { $regno }
dash-unvoid-record-col = Упис
dash-unvoid-office = Канцеларија
dash-unvoid-clerk = Службеник
dash-unvoid-reason = Разлог службеника
dash-unvoid-asked = Затражено
dash-unvoid-waiting = (чека { $ago })
dash-unvoid-your-reason = Ваш разлог (канцеларија га чита)
dash-unvoid-reason-hint = Обавезно, највише 500 знакова, на пример где то потврђује папирни регистар.
dash-unvoid-grant = Одобри: врати упис
dash-unvoid-refuse = Одбиј: остави поништен
dash-unvoid-answered = Одговорено у последњих { $days } дана
dash-unvoid-none-answered = Ниједан захтев није одговорен у том периоду.
dash-unvoid-answer = Одговор
dash-unvoid-state-pending = чека
dash-unvoid-state-granted = одобрен
dash-unvoid-state-refused = одбијен
dash-unvoid-command = На командној линији центра:
dash-unvoid-not-recorded = Није одговорено
dash-unvoid-back = Захтеви за враћање
dash-err-unvoid-choose = изаберите Одобри или Одбиј
dash-err-unvoid-none = не постоји захтев за враћање { $id }: вратите се на листу и изаберите неки одатле
dash-err-unvoid-reason = наведите разлог: канцеларија га чита уз одговор
dash-err-unvoid-reason-long = разлог има { $n } знакова; чува се највише { $max }: скратите га
dash-err-unvoid-answered = на захтев за враћање { $id } је већ одговорено ({ $state }): ништа није урађено
dash-err-unvoid-not-void = упис { $regno } више није поништен у центру (враћен после захтева?): одбијте захтев и наведите то
dash-err-unvoid-no-record = центар нема упис { $regno }: одбијте захтев и наведите то
dash-overview-every = Све општине
dash-hubs = Центри
dash-hubs-none = Нема листе центара у конфигурацији (hub_urls): пакети за упис носе адресу дату са --hub-url.
dash-overview-summary = Општине којима је сада потребна пажња: { $bad }; које треба погледати: { $warn }.
dash-trouble-halted = { $node } је престао да уписује: { $why }
dash-trouble-upgrade = { $node } мора да се надогради: { $why }
dash-trouble-refused = { $node } одбијен од стране увођења
dash-trouble-blocked = { $node } блокиран: операција #{ $seq } ({ $record }) трајно одбијена; погледајте `civreg-hub refused`
dash-trouble-revoked = { $node }: сертификат опозван
dash-trouble-not-reaching = { $node } не допире до централе
dash-trouble-never = { $node } се никад није јавио
dash-trouble-waiting = { $node } има { $n } операција на чекању
dash-trouble-clock = { $node }: сат није тачан
dash-trouble-cert-expired = { $node }: сертификат истекао
dash-trouble-cert-expires = { $node }: сертификат истиче { $days ->
    [one] за { $days } дан
   *[other] за { $days } дана
}
dash-trouble-conflicts = отворених конфликата: { $n }
dash-trouble-duplicates = отворених дупликата: { $n }
dash-node-title = Чвор { $node }
dash-node-last-seen = Последњи пут виђен
dash-node-version = Верзија
dash-node-acked = Последња потврђена операција
dash-node-waiting = Операције на чекању
dash-node-clock = Одступање сата
dash-node-disk = Слободан диск
dash-node-cert = Сертификат
dash-node-cert-expires = истиче { $date }
dash-node-cert-serial = серијски број { $serial }
dash-node-cert-none = нема активног сертификата
dash-node-interval = Интервал синхронизације
dash-node-interval-window = не допире до централе после { $window } без знака живота
dash-node-interval-untold = чвор га није јавио
dash-node-last-day = Последњи дан
dash-node-chart-help = Стубићи: операције које је централа потврдила по сату. Линија: кашњење (старост најстарије операције на чекању). Мерено сваких { $every } и чувано у бази података централе: поновно покретање оставља празнину, не празан графикон ({ $samples } мерења до сада).
dash-node-errors = Последње грешке и одбијања
dash-node-halted = престао да уписује: { $why }
dash-node-no-errors = ниједна откако је централа покренута
dash-node-blocked = Блокиран
dash-node-blocked-why = Централа трајно одбија операцију #{ $seq } (упис { $record }): { $why }
dash-node-blocked-help = Све што је ова канцеларија сачувала после ње чека. Пошто прочита разлог са канцеларијом, оператер може да стави операцију по страни (хеш { $hash }):
dash-node-aside = Операције стављене по страни
dash-node-aside-item = операцију #{ $seq } ставио по страни { $by } дана { $at }: { $reason }
dash-chart-label = потврђене операције по сату и кашњење, последња 24 сата
dash-chart-bar = потврђених операција: { $n }, кашњење { $lag }
dash-chart-not-sampled = није мерено
dash-chart-ops = операције/сат (највише { $max })
dash-chart-lag = кашњење (највише { $max })
dash-chart-day-ago = пре 24 ч
dash-chart-now = сада
dash-conflicts-open = Отворени конфликти
dash-conflicts-all = Сви конфликти
dash-conflicts-open-of = Отворени конфликти: { $m }
dash-conflicts-all-of = Сви конфликти: { $m }
dash-conflicts-open-only = Само отворени
dash-conflicts-include-resolved = Укључи и разрешене
dash-conflicts-none = Нема конфликата.
dash-conflicts-a = А (задржано за сада)
dash-conflicts-back = Сви отворени конфликти
dash-conflict = Конфликт
dash-conflict-record = Упис
dash-conflict-field = поље
dash-conflict-explain = две канцеларије су га уписале а да нису виделе измену оне друге.
dash-conflict-a-head = А: задржано за сада (каснији упис)
dash-conflict-b-head = Б: стављено по страни
dash-conflict-side = уписао { $clerk } на чвору { $node } (операција { $op })
dash-conflict-resolved-by = Разрешио
dash-conflict-resolve-as = Разрешите, као { $name }
dash-conflict-keep-a = Задржи А
dash-conflict-keep-b = Задржи Б
dash-conflict-keep-a-void = Задржи А (поништење)
dash-conflict-keep-b-edit = Задржи Б (измену: врати упис)
dash-conflict-other = Друга вредност
dash-conflict-other-value = Та друга вредност
dash-conflict-reason = Разлог (чува се са историјом уписа)
dash-conflict-submit = Забележи одлуку
dash-dups-open = Отворени дупликати
dash-dups-all = Сви случајеви дупликата
dash-dups-open-of = Отворени дупликати: { $m }
dash-dups-all-of = Сви случајеви дупликата: { $m }
dash-dups-intro = Парови особа за које је упоређивач нашао да су вероватно иста особа, у регистру и међу могућим поклапањима увоза. Отворите случај да упоредите оба уписа, па их повежите (један идентификатор особе) или одбаците случај (различите особе). Најјачи први.
dash-dups-command = Регистар се проверава на дупликате командом
dash-dups-every-municipality = све општине
dash-dups-include-decided-box = укључи решене случајеве
dash-dups-show = Прикажи
dash-dups-none = Ниједан дупликат не чека преглед.
dash-dups-none-all = Нема случајева дупликата.
dash-dups-count = { $n ->
    [one] { $n } случај.
   *[other] { $n } случајева.
}
dash-dups-case = Случај
dash-dups-weight = Тежина
dash-dups-probability = Вероватноћа
dash-dups-class = Класа
dash-dups-found-by = Нашао
dash-dups-a = А (у регистру)
dash-dups-b = Б (нађен као његов дупликат)
dash-dups-municipalities = Општине
dash-dups-filed = Заведен
dash-dups-open-only = Само отворени случајеви
dash-dups-include-decided = Укључи решене случајеве
dash-dups-back = Сви отворени дупликати
dash-ill-heading = Особе увезене без имена
dash-ill-intro = Централни увоз је преузео ове особе без имена: име се не може прочитати на страници регистра. Нека се страница поново прочита и канцеларија унесе име; особа нестаје са овог списка чим запис има име.
dash-ill-count = { $n ->
    [one] { $n } особа чека; приказано { $shown }.
   *[other] { $n } особа чека; приказано { $shown }.
}
dash-ill-record = Запис
dash-ill-person = Особа
dash-ill-surname = Презиме
dash-ill-source = Увезено из
dash-ill-line = { $file }, ред { $line }
dash-ill-by = Увезао
dash-dup-title = Случај дупликата
dash-dup-status-open = отворен
dash-dup-status-linked = повезан
dash-dup-status-dismissed = одбачен
dash-dup-status-unlinked = раздвојен
dash-dup-status-withdrawn = повучен
dash-dup-found = Упоређивач ({ $source }) је нашао да су ово вероватно иста особа:
dash-dup-weight = тежина
dash-dup-probability = вероватноћа { $p } %
dash-dup-class = класа
dash-dup-filed = Заведен { $at }; општине { $ms }.
dash-dup-person = Особа
dash-dup-role = Улога
dash-dup-pid = Идентификатор особе
dash-dup-voided = поништио { $clerk }: { $reason }
dash-dup-same = А и Б имају исти идентификатор особе: то је једна особа.
dash-dup-different = А и Б имају различите идентификаторе особе. Редови који се разликују су истакнути.
dash-dup-records = Два уписа
dash-dup-people = Особе и њихови идентификатори
dash-dup-linked-by = повезао { $clerk } (операција { $op })
dash-dup-decisions = Одлуке
dash-dup-no-decisions = Још ниједна.
dash-dup-decision = Одлука
dash-dup-operator = Оператер
dash-dup-when = Када
dash-dup-reason = Разлог
dash-dup-ops = Операције
dash-dup-decided-open = Поново отворио
dash-dup-decided-linked = Повезао
dash-dup-decided-dismissed = Одбацио
dash-dup-decided-unlinked = Раздвојио
dash-dup-decided-withdrawn = Повукао центар при раздвајању које је урадио
dash-dup-decide-as = Одлучите, као { $name }
dash-dup-reason-label = Разлог (чува се у историји случаја и у операцији повезивања)
dash-dup-link = Повежи: једна особа
dash-dup-dismiss = Одбаци: различите особе
dash-dup-unlink = Раздвоји: Б поново добија свој идентификатор
dash-dup-closed = Овај случај је решен; овде се с њим не може више ништа урадити.
dash-dup-not-recorded = Није забележено
dash-dup-back-to-case = Назад на случај
dash-rollout-intro = Планирано: ниједан чвор не може да се повеже. Пилот и активно: пуна синхронизација. Обустављено: чворови могу да преузимају, али не и да шаљу (настављају да уписују и шаљу кад се настави). Промена важи одмах и бележи се са вашим именом и разлогом.
dash-rollout-kinds = Врсте уписа
dash-rollout-last-change = Последња промена
dash-rollout-change-to = Промени у
dash-rollout-changed = { $at }, { $by }
dash-rollout-default = подразумевано
dash-rollout-stage-of = Фаза: { $m }
dash-rollout-reason = разлог
dash-rollout-reason-of = Разлог промене: { $m }
dash-rollout-change = Промени
dash-verify-title = Провера извода
dash-verify-intro = Скенирајте QR код извода и налепите његов текст овде.
dash-verify-qr-label = Текст QR кода
dash-verify-check = Провери
dash-verify-valid = ВАЖЕЋЕ
dash-verify-invalid = НЕВАЖЕЋЕ
dash-verify-pending = НЕПОТВРЂЕНО
dash-verify-signed-by = потписао { $signer }
dash-verify-pending-why = потпис { $signer } је исправан, али канцеларија још није пријавила овај извод: издат ван мреже { $date }.
dash-verify-last-reported = Последњи извод који је пријавила канцеларија { $office }: { $serial }.
dash-verify-none-reported = Канцеларија { $office } још није пријавила ниједан извод.
dash-verify-claims = Потписани подаци
dash-verify-claim-serial = Серијски број
dash-verify-claim-record = Упис
dash-verify-claim-kind = Врста
dash-verify-claim-issued = Издат
dash-verify-claim-office = Канцеларија
dash-verify-claim-version = Верзија уписа
dash-verify-claim-event-date = Датум догађаја
dash-verify-claim-event-place = Место догађаја
dash-verify-not-held = Агенција још није примила овај упис од његове канцеларије: његово садашње стање не може да се упореди.
dash-verify-reported = Канцеларија која је издала извод пријавила га је агенцији.
dash-verify-not-reported = Ако сумњате, питајте канцеларију која је издала извод: она пријављује шта је издала кад јој веза са агенцијом поново проради.
dash-refusal-undecodable = код не може да се прочита као civreg извод: { $why }
dash-refusal-unknown-signer = потписано кључем који листа поверења не познаје (ид кључа { $kid }); ако је извод нов, покушајте поново касније
dash-refusal-bad-signature = потпис се не слаже са садржајем: извод је измењен или кривотворен
dash-refusal-signer-expired = потписао { $signer } дана { $issued }, ван периода важења ({ $from } до { $to })
dash-refusal-signer-revoked = потписник { $signer } је опозван { $at }: агенција више не јемчи ни за шта што је потписао
dash-refusal-foreign-serial = потпис { $signer } је исправан, али оверена канцеларија је { $office } и серијски број { $serial } није од оних које она издаје: извод је направљен ван регистра
dash-refusal-unknown-serial = серијски број { $serial } није у регистру агенције: његова канцеларија је од тада пријавила изводе издате после овог, а овај није
dash-refusal-cancelled = извод је поништен { $at }: { $reason }
dash-refusal-record-voided = упис { $regno } је поништен пошто је овај извод издат
dash-refusal-record-amended = упис { $regno } је измењен пошто је овај извод издат (тада верзија { $issued }, сада { $now }): затражите нови извод
## Командна линија чвора (задатак clilang): `civreg-node --lang sr-Cyrl`. Где апликација има исте речи
## (провера, врсте уписа и измене, улоге, догађаји), командна линија користи кључеве апликације.
cli-error = грешка: { $message }
cli-problem-error = грешка: { $field }: { $message }
cli-problem-warning = упозорење: { $field }: { $message }
cli-not-saved = упис није сачуван:
cli-saved = сачувано { $regno }
cli-amended = измењено { $regno }
cli-annotated = забележено { $regno }
cli-voided = поништено { $regno }
cli-clerk-added = службеник { $name } је додат
cli-ask-clerk = службеник
cli-ask-password = лозинка за { $name }
cli-ask-new-password = нова лозинка за { $name }
cli-ask-repeat = поновите је
cli-err-no-terminal = нема терминала за питање: поставите CIVREG_CLERK и CIVREG_CLERK_PASSWORD: { $detail }
cli-err-read-password = лозинка није могла да се прочита: поставите { $var }: { $detail }
cli-err-passwords-differ = две лозинке се разликују; ништа није промењено
cli-err-bad-credentials = непознат службеник или погрешна лозинка
cli-err-clerk-exists = службеник { $name } већ постоји
cli-err-clerk-name = име службеника { $name } није исправно: користите од 1 до 32 мала слова, цифре, тачке или доње црте
cli-err-weak-password = лозинка мора имати најмање 8 знакова
cli-err-wrong-key = датотека кључа не припада овој бази података (или је база оштећена): користите датотеку кључа направљену када је овај чвор покренут
cli-err-not-initialised = нема базе података чвора у { $dir }: прво покрените `civreg-node --data-dir { $dir } init --municipality KOD --node-id ID`
cli-err-locked = базу података у { $path } користи други процес civreg-node (да ли ради `civreg-node serve`?); зауставите га или сачекајте да заврши
cli-err-lost = `civreg-node serve` се зауставио пре него што је команда завршена, па је можда извршена, а можда и није: проверите (нпр. са `civreg-node show` или `search`) пре него што је поново покренете
cli-err-no-access = { $path }: приступ одбијен: покрените команду као корисник који покреће `civreg-node serve`
cli-err-request-too-large = команда је превелика да би се предала покренутом `civreg-node serve` (захтев може имати највише { $max } бајтова): ставите податке у датотеку
cli-err-not-found = нема уписа { $regno } на овом чвору
cli-err-bad-regno = { $value } није број уписа: очекује се ОПШТИНА-ГОДИНА-ВРСТА-БРОЈ, нпр. PRISHTINE-2026-B-000042
cli-err-voided = упис { $regno } је поништен и не може се мењати
cli-err-no-change = нема шта да се мења: измене остављају упис { $regno } какав јесте
cli-err-void-reason = за поништавање уписа потребан је разлог: наведите --reason "..."
cli-err-amend-reason = за измену уписа потребан је разлог (чува се у историји уписа): наведите --reason "..."
cli-err-wrong-municipality = ова канцеларија уписује само уписе општине { $own }, а упис наводи { $given }
cli-err-halted = ова канцеларија је престала са уписом: { $reason }. Ништа не може да се сачува у овој бази података; позовите агенцију (приручник оператера: "Канцеларија која је престала са уписом")
cli-err-clock-ahead = сат овог рачунара је при последњој синхронизацији журио { $minutes } минута у односу на центар: исправите датум и време рачунара, затим синхронизујте (`civreg-node sync --once`) и поново сачувајте
cli-err-read-file = { $file } није могла да се прочита: { $detail }
cli-err-write-report = извештај није могао да се упише у { $file }: { $detail }
cli-err-not-json = { $file } није исправан JSON: { $detail } (ред { $line }, колона { $column })
cli-err-doc-not-json = документ { $n } није исправан JSON: { $detail }; ништа после њега није прочитано
cli-err-no-document = { $file } не садржи ниједан JSON документ
cli-err-nothing-to-search = нема шта да се тражи: наведите име, датум, место или лични број
cli-err-unknown-municipality = непозната општина { $name }: `civreg-node municipalities` их наводи
cli-err-cert-lang = непознат језик { $value }: користите sq, sr или en
cli-err-out-exists = { $file } већ постоји: изаберите други --out
cli-err-cert-not-written = извод { $serial } је издат и забележен, али { $file } није могло да се упише: одштампајте га поново са другим --out: { $detail }
cli-err-trust-list = листа поверења { $file } није могла да се прочита: { $detail }
cli-show-void = ПОНИШТЕН: { $reason } (службеник { $clerk }, { $when })
cli-show-conflict = СУКОБ { $id } у пољу { $field }: приказано { $shown } — такође { $other }; одлучује агенција
cli-show-conflict-status = поништити или задржати
cli-show-side = { $value } (службеник { $clerk } на чвору { $node }, { $when })
cli-show-annotation = белешка
cli-show-person = особа { $person } (повезао службеник { $clerk }, { $when })
cli-show-versions = верзије
cli-show-versions-value = { $count } (последња измена { $when })
cli-note-place = { " " }у месту { $place }
cli-note-record = , упис { $regno }
cli-note-by = (канцеларија { $office })
cli-history-head = { $regno } ({ $kind }), верзија: { $count }
cli-history-version = верзија { $version } — { $change }, службеник { $clerk }, { $when } (op { $op })
cli-history-reason = разлог: { $reason }
cli-search-local = локални одговор: само уписи овог чвора; { $why }
cli-search-national = национални одговор (регистар центра): пронађено { $count }
cli-search-partial = ниједан упис не одговара свим деловима претраге: следе најближи уписи
cli-search-none = ниједан упис не одговара
cli-search-why = зашто
cli-search-born = рођен(а) { $date }
cli-search-why-not-enrolled = овај чвор није пријављен у центру
cli-search-why-no-answer = центар није одговорио ({ $detail })
cli-link-prior = априорна вероватноћа: у регистру се очекује { $expected } редова ({ $source }, λ { $lambda }); прагови: подударање { $match } бита, могуће { $possible } бита
cli-link-prior-given = априорна вероватноћа: у регистру се очекује { $expected } редова ({ $source }, λ { $lambda }); прагови: подударање { $match } бита, могуће { $possible } бита (задао корисник)
cli-link-source-user = како је корисник очекивао
cli-link-source-rules = детерминистичка правила
cli-link-source-refined = детерминистичка правила, дорађена EM-ом над кандидатима редова (по врсти реда)
cli-link-kind = { "  " }редови без { $lacks } ({ $rows }): удео { $share }, подударање од { $match } бита, могуће од { $possible } бита
cli-link-kind-complete = { "  " }потпуни редови ({ $rows }): удео { $share }, подударање од { $match } бита, могуће од { $possible } бита
cli-link-field-given-name = имена
cli-link-field-surname = презимена
cli-link-field-birth-date = датума рођења
cli-link-field-birth-place = места рођења
cli-link-field-personal-number = личног броја
cli-link-field-father-given-name = очевог имена
cli-link-field-mother-given-name = мајчиног имена
cli-status-sync = синхронизација
cli-status-not-enrolled = није пријављен у центру (чвор ван мреже)
cli-status-stopped = ЗАУСТАВЉЕНО: центар одбија овај чвор
cli-status-first-round = serve ради, први круг је у току
cli-status-never-served = никад синхронизовано преко `serve`
cli-status-online = на мрежи
cli-status-offline = ван мреже
cli-status-serving = { $state } (serve ради)
cli-status-last-success = последњи успех
cli-status-never = никад
cli-status-waiting = на чекању
cli-status-waiting-value = { $count } (најстарија { $age } s)
cli-status-hub-acked = центар има до
cli-status-pull-cursor = курсор преузимања
cli-status-hub = центар у употреби
cli-status-hubs = наведени центри
cli-status-hubs-from-bundle = { $hubs } (из пакета за упис)
cli-status-hubs-from-hub = { $hubs } (послао центар { $by }, { $when })
cli-status-hubs-refused = листа центара одбијена
cli-status-hubs-refused-value = { $hubs } (послао { $by }, { $when }): { $why }
cli-status-last-error = последња грешка
cli-status-none = нема
cli-status-cert = сертификат
cli-status-cert-valid = важи још { $days } дана
cli-status-halted = УПИС ЗАУСТАВЉЕН: { $reason }
cli-status-halted-note = овде ништа не може да се сачува док агенција не реагује
cli-status-clock = САТ ЖУРИ
cli-status-clock-value = сат овог рачунара је журио { $minutes } минута у односу на центар: исправите датум и време, затим синхронизујте; до тада се чување одбија
cli-status-rollout = фаза увођења
cli-status-rollout-value = { $stage }, сме да уписује: { $kinds }
cli-status-rollout-none = ниједан упис
cli-import-summary = Редова: { $rows }. Увезено: { $accepted }. Већ увезено раније (прескочено): { $skipped }. Одбијено: { $rejected }.
cli-import-rejected = одбијен ред { $line }: { $reasons }
cli-import-double = ред { $line }: могућ двоструки упис, исти као ред { $same } (без ознаке матичне књиге): увезен као { $regno }, проверите страну матичне књиге
cli-import-rows = редова: { $rows }
cli-import-progress = прочитано редова: { $rows } ({ $percent }% датотеке)
cli-cert-written = извод { $serial } за { $regno } уписан у { $file } (верзија уписа { $version })
cli-verify-valid = ВАЖЕЋИ: извод { $serial } за упис { $regno }, издат { $date }, издала канцеларија { $office }
cli-verify-person-born = { $name }, рођен(а) { $date }
cli-verify-event = догађај: { $date }, место { $place }
cli-verify-offline = проверено ван мреже према листи поверења од { $date }; да ли је упис од тада измењен или извод поништен зна само страница за проверу агенције
cli-verify-unpinned = упозорење: листа поверења није везана за корен агенције (--anchor); SHA-256 њеног корена је { $fingerprint }: упоредите га са отиском који је агенција објавила
cli-refusal-undecodable = НИЈЕ ВАЖЕЋИ: код не може да се прочита као civreg извод: { $detail }
cli-refusal-unknown-signer = НИЈЕ ВАЖЕЋИ: потписано кључем који листа поверења не познаје (ИД кључа { $kid }); ако је извод нов, набавите свежу листу поверења и покушајте поново
cli-refusal-bad-signature = НИЈЕ ВАЖЕЋИ: потпис се не слаже са садржајем: извод је измењен или фалсификован
cli-refusal-signer-expired = НИЈЕ ВАЖЕЋИ: потписао { $signer } дана { $issued }, ван периода важења ({ $from } до { $to })
cli-refusal-signer-revoked = НИЈЕ ВАЖЕЋИ: потписник { $signer } је опозван { $when }: агенција више не јемчи ни за шта што је потписао
cli-refusal-foreign-serial = НИЈЕ ВАЖЕЋИ: потпис { $signer } је прави, али оверена канцеларија је { $office } и серијски број { $serial } није од оних које она издаје: извод је направљен ван регистра
cli-refusal-unknown-serial = НИЈЕ ВАЖЕЋИ: серијски број { $serial } није у регистру агенције: његова канцеларија је од тада пријавила изводе издате после овог, а овај није
cli-refusal-cancelled = НИЈЕ ВАЖЕЋИ: извод је поништен { $when }: { $reason }
cli-refusal-record-voided = НИЈЕ ВАЖЕЋИ: упис { $regno } је поништен после издавања овог извода
cli-refusal-record-amended = НИЈЕ ВАЖЕЋИ: упис { $regno } је измењен после издавања овог извода (тада верзија { $issued }, сада { $now }): затражите нови извод
cli-summary-birth = { $name }, рођен(а) { $date }, место { $place }
cli-summary-marriage = { $name } и { $spouse }, венчани { $date }, место { $place }
cli-summary-death = { $name }, умро/умрла { $date }, место { $place }
cli-status-rollout-birth = рођења
cli-status-rollout-marriage = венчања
cli-status-rollout-death = смрти
cli-status-rollout-and = и
cli-err-sync-once = `sync` ради један круг и тражи --once; за сталну синхронизацију покрените `civreg-node serve`
cli-sync-done = синхронизовано са { $hub }: послато промена: { $pushed } (центар има дневник овог чвора до #{ $acked }), преузето промена: { $pulled }
cli-sync-retry = { $error } (покушајте поново касније)
cli-sync-no-retry = { $error } (ово се неће решити поновним покушајем)
cli-status-set-aside = издвојено
cli-status-set-aside-value = промена #{ $seq } (упис { $regno }) издвојила агенција: { $reason }
cli-unvoid-requested = враћање уписа { $regno } затражено од агенције (захтев { $id }): одговор стиже са синхронизацијом (`civreg-node status`)
cli-err-unvoid-not-void = упис { $regno } није поништен: нема шта да се врати
cli-err-unvoid-other = упис { $regno } је општине { $given }: питајте њену канцеларију (ова канцеларија тражи само за уписе општине { $own })
cli-err-unvoid-pending = захтев за враћање уписа { $regno } већ чека одговор агенције: синхронизујте и погледајте `civreg-node status`
cli-err-unvoid-full = { $count } захтева за враћање чека одговор агенције: синхронизујте и тражите поново кад неки добију одговор
cli-err-unvoid-reason = наведите разлог (--reason "...") од највише { $max } знакова, у једном реду: оператер агенције га чита
cli-status-unvoid = враћање
cli-unvoid-pending = { $regno }: затражио { $clerk }, чека агенцију
cli-unvoid-granted = { $regno }: одобрила агенција ({ $operator }): { $reason }; упис је поново активан после синхронизације
cli-unvoid-refused = { $regno }: одбила агенција ({ $operator }): { $reason }
cli-unvoid-invalid = { $regno }: централа није могла да прими захтев: { $reason }
cli-status-backup-failed = РЕЗЕРВНА КОПИЈА НИЈЕ УСПЕЛА
cli-status-backup-failed-value = { $error } ({ $when }); последња добра: { $last }
cli-status-backup = последња резервна копија
cli-status-dupes-model = провера дупликата
cli-status-dupes-model-hub = модел центра { $id }, обучен на { $people } особа (подударање од { $matched } бита, могуће од { $possible }), примљен { $when }
cli-status-dupes-model-builtin = уграђени модел (још ниједан модел из центра)
cli-status-dupes-model-refused = МОДЕЛ ОДБИЈЕН
cli-status-dupes-model-refused-value = модел центра { $id } ({ $when }): { $why }; провера дупликата задржава модел изнад
cli-status-hub-cert = сертификат центра
cli-status-hub-cert-value = истиче { $until } (SHA-256 { $sha })
cli-status-hub-next = следећи сертификат центра
cli-status-trusted-roots = поуздани корени
cli-status-trusted-roots-value = { $count } корена агенције (у току је замена CA: стари и нови корен важе заједно)
## Task https (issue 14): the clerk app's own HTTPS certificate, in the status bar
status-app-cert-expires = HTTPS сертификат апликације истиче за { $days } дана: тражите нови од агенције.
status-app-cert-expired = HTTPS сертификат апликације је истекао: тражите нови од агенције.

# Lead, session 11: the clerk app certificate in `civreg-node status`.
cli-status-app-cert = сертификат апликације
cli-status-app-cert-value = { $names }, важи до { $until }
# ---- dupes (session 11): the duplicate check scored by the linkage model, side by side ----
dupes-caption = Оно што сте унели поред сваког пронађеног уписа, поље по поље
dupes-field = Поље
dupes-typed-new = Нови упис
dupes-none = није наведено
dupes-f-father = Име оца
dupes-f-mother = Име мајке
dupes-f-mother-maiden = Девојачко презиме мајке
dupes-f-pnum = Лични број
dupes-f-municipality = Уписано у
dupes-strength-match = Врло вероватно иста особа
dupes-strength-possible = Можда иста особа
dupes-strength-same-number = Исти лични број, остали подаци се разликују
dupes-strength-unscored = Премало се зна за поређење
dupes-partial = Води се у другој канцеларији: овде се знају само имена те датум и место рођења; остала поља нису поређена.
dupes-m-agree = Слаже се
dupes-m-agree-spelling = Слаже се (други правопис или писмо)
dupes-m-sounds = Близу: исто звучи
dupes-m-typo = Близу: једна грешка у куцању
dupes-m-swapped = Близу: име и презиме замењени
dupes-m-other-surname = Близу: одговара ранијем презимену
dupes-m-date-swapped = Близу: дан и месец замењени
dupes-m-digit = Близу: разликује се једна цифра
dupes-m-same-year = Близу: иста година
dupes-m-year-apart = Близу: годину дана разлике
dupes-m-close = Близу
dupes-m-differ = Разликује се
dupes-m-unknown = Није поређено: недостаје на једној страни

# Task rotate (issue 17): key rotation of the office node
cli-err-rotation-unfinished = замена кључа базе података ове канцеларије није завршена: администратор мора да покрене `civreg-node rotate-key --resume` (ниједан податак није изгубљен; база података се не може користити до тада)
## Task `history` (issue 17): certificates of every kind expiring, in "Needs you now".
dash-now-cert-hub-expires = Сопствени сертификат центра истиче { $days ->
    [one] за { $days } дан
   *[other] за { $days } дана
}
dash-now-cert-operator-expires = Оператер { $who }: сертификат истиче { $days ->
    [one] за { $days } дан
   *[other] за { $days } дана
}
dash-now-cert-app-expires = Апликација канцеларије { $who }: сертификат истиче { $days ->
    [one] за { $days } дан
   *[other] за { $days } дана
}
dash-now-cert-hub-expired = Сопствени сертификат центра је истекао: чворови више не могу да се повежу
dash-now-cert-operator-expired = Оператер { $who }: сертификат је истекао
dash-now-cert-app-expired = Апликација канцеларије { $who }: сертификат је истекао
# ---- cluster (session 11): ред дупликата по особи, једна одлука по групи ----
dash-dups-by-person = Преглед по особи: групе случајева
dash-dup-close-same = Затвори: већ су иста особа
dash-dup-same-open = A и B су већ иста особа (повезани преко других случајева): затворите овај случај.
dash-dup-via-case = повезивањем случаја { $id }
dash-dup-via-cluster = одлуком о групи { $id }
dash-dup-via-already = већ иста особа
dash-dup-in-cluster = Овај случај припада групи од { $n } уписа: одлучите о свима одједном
dash-dup-via-import = везама увоза датотеке { $file }
dash-dup-via-unlink = поново отворен: раздвајање случаја { $id } раздвојило је њих двоје, а овај случај је био затворен само зато што су били иста особа
dash-dup-via-withdrawn = повучен: раздвајање случаја { $id } раздвојило је децу чије је повезивање предложило овај случај
dash-dup-proposed = Предложио центар: родитељи особе повезане { $at }, повезао { $operator }
dash-cls-title = Дупликати по особи
dash-cls-intro = Група обухвата сваки упис који отворени случајеви спајају, директно или преко других; уписи који су већ иста особа броје се једном. Отворите групу да видите све њене уписе један поред другог и одлучите о свима одједном. Најјачи први.
dash-cls-by-pair = Преглед пар по пар
dash-cls-cluster = Група
dash-cls-records = Уписи
dash-cls-persons = Особа сада
dash-cls-cases = Отворени случајеви
dash-cls-strongest = Најјача тежина
dash-cls-weakest = Најслабија тежина
dash-cls-too-large = више од { $max } уписа: одлучујте пар по пар
dash-cl-title = Група
dash-cl-summary = { $records } уписа, { $persons } особа сада, { $cases } отворених случајева; тежине од { $weakest } до { $strongest }; општине: { $ms }.
dash-cl-too-large = Ова група има { $n } уписа, више од { $max } о којима се може одлучити одједном. Одлучите о њеним случајевима један по један испод.
dash-cl-records = Сви уписи један поред другог
dash-cl-voided = поништен
dash-cl-group = Група
dash-cl-group-of = Група уписа { $n }
dash-cl-pairs = Тежине по паровима
dash-cl-decide-help = Сви су иста особа: сваки упис добија један идентификатор особе и сваки случај групе затвара се као повезан. Раздвоји: дајте сваком упису број групе; свака група постаје једна особа, а случајеви између група се одбацују.
dash-cl-one = Сви су иста особа
dash-cl-split = Раздвоји по групама
dash-cl-closed = Ова група више нема отворених случајева: о њој је одлучено.
dash-cl-decisions = Одлуке о овој групи
dash-cl-choice-one = Сви су иста особа
dash-cl-choice-split = Раздвајање
dash-cl-groups = Групе (особа: уписи)
dash-cl-decided = { $linked } случајева затворено као повезано, { $dismissed } одбачено
dash-cl-back = Све групе
dash-cl-back-to-cluster = Назад на групу
dash-err-no-cluster = Нема отворене групе { $id }: о њој је можда у међувремену одлучено. Списак група приказује оне које чекају.
dash-err-cluster-changed = Група { $id } се променила откако је страница отворена (случај је заведен или решен): поново учитајте страницу и одлучите поново.
dash-err-cluster-too-large = Група { $id } има { $n } уписа, више од { $max }: одлучите о њеним случајевима један по један.
dash-err-not-in-cluster = { $mention } није упис групе { $id }: поново учитајте страницу.
dash-err-unassigned = Упис { $mention } нема групу: дајте сваком упису број групе.
dash-err-bad-group = Група „{ $given }” није број од 1 до { $max }.
dash-err-splits-person = { $a } и { $b } су већ иста особа: ставите их у исту групу (да бисте их раздвојили, прво раскините везу њиховог случаја).
dash-err-choose-cluster-decision = Изаберите одлуку: сви су иста особа, или раздвоји по групама.
## Task clisession (issue 17): the remembered clerk at the command line, files through serve
cli-session-remembered = пријављени сте као { $name }: следеће команде не траже лозинку док не прође { $minutes } минута без команде (најкасније у { $until }); `civreg-node logout` је завршава
cli-session-signed-in = пријављени сте као { $name } најкасније до { $until }; сесија се завршава после { $minutes } минута без команде, или са `civreg-node logout`
cli-session-ended = сесија је завршена: следећа команда поново тражи лозинку службеника
cli-session-none = ниједна сесија није била отворена: следећа команда тражи лозинку службеника
cli-err-login-needs-serve = `civreg-node login` памти службеника само док ради `civreg-node serve`: прво покрените serve (без њега свака команда пита, или чита CIVREG_CLERK и CIVREG_CLERK_PASSWORD)
cli-err-no-session-dir = овде нема приватног места за чување сесије: нека свака команда тражи лозинку
cli-err-file-too-large = { $file } је већи од { $max } KiB: не може бити датотека измена
cli-err-write-file = { $file } није могла да се упише: { $detail }

## Task clerks (issue 17): налози службеника чувају се у центру, `init --recover` их враћа
cli-clerk-password-changed = лозинка службеника { $name } је промењена; стара више не важи
cli-clerk-removed = службеник { $name } је уклоњен: више не може да се пријави
cli-err-no-such-clerk = у овој канцеларији нема службеника { $name } (`civreg-node clerk list` их наводи)
cli-err-last-clerk = службеник { $name } је последњи службеник канцеларије и не уклања се: прво додајте другог службеника
cli-err-too-many-clerks = ова канцеларија има { $max } налога службеника, колико се највише чува: уклоните један који више није потребан (`civreg-node clerk remove NAME`) пре него што додате други
recover-clerks-restored = налози службеника враћени из центра: { $n }; сваки службеник се пријављује својом лозинком, како ју је центар последњи пут чуо од ове канцеларије у { $at }. Налози додати или промењени на изгубљеном рачунару после тога нису враћени: додајте их поново (`civreg-node clerk add NAME`, `civreg-node clerk password NAME`)
recover-clerks-kept = налози службеника додати овде после обнове, задржани: { $n }
recover-clerks-none = центар нема налоге службеника ове канцеларије: додајте их поново (`civreg-node clerk add NAME`)
recover-clerks-pending = налози службеника још нису враћени: стижу са првом успешном синхронизацијом (`civreg-node sync --once` или `serve`)
## Објашњења претраге (shared::query::why): један ред за сваки део претраге
search-why-name = "{ $word }": { $person } ({ $role }), { $field }: { $how }
search-why-person-born = { $name } (презиме по рођењу { $born })
search-why-no-name = "{ $word }": тог имена нема у овом упису
search-why-year = { $year }: датум рођења { $born }
search-why-year-not = { $year }: није година рођења ({ $born })
search-why-date = { $date }: датум рођења { $born }
search-why-date-swapped = { $date }: датум рођења { $born } (замењени дан и месец)
search-why-date-not = { $date }: није датум рођења ({ $born })
search-why-place = "{ $word }": { $place }
search-why-place-not = "{ $word }": { $place } није место овог уписа ({ $record_place })
search-why-number = лични број: тачан
search-why-unknown-date = ?
search-field-given = име
search-field-surname = презиме
search-field-birth = презиме по рођењу (девојачко презиме)
search-field-father = очево име
search-field-fathers-given = име оца (као лица у упису)
search-how-exact = тачно, без обзира на писмо и дијакритичке знаке
search-how-orthography = исто име у правопису или писму друге заједнице
search-how-folded = иста слова без дијакритичких знакова (другачије писање)
search-how-phonetic = слично звучи
search-how-prefix = име почиње овим словима
search-how-typos = { $n ->
    [one] { $n } грешка у куцању
    [few] { $n } грешке у куцању
   *[other] { $n } грешака у куцању
}
search-role-child = дете
search-role-mother = мајка
search-role-father = отац
search-role-spouse1 = први супружник
search-role-spouse2 = други супружник
search-role-deceased = преминули

