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
