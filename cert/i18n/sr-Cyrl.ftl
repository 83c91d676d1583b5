# Извод за грађане (PDF): одштампане ознаке. Сваки кључ постоји на сва четири језика (тест `cert::labels`).


## The heading
pdf-country = Република Косово
pdf-agency = Агенција за цивилну регистрацију

## Titles and the legal basis, by kind of record
pdf-title-birth = ИЗВОД ИЗ МАТИЧНЕ КЊИГЕ РОЂЕНИХ
pdf-title-marriage = ИЗВОД ИЗ МАТИЧНЕ КЊИГЕ ВЕНЧАНИХ
pdf-title-death = ИЗВОД ИЗ МАТИЧНЕ КЊИГЕ УМРЛИХ
pdf-extract-birth = Овај извод је издат из матичне књиге рођених, која се води према Закону бр. 04/L-003 о грађанском стању.
pdf-extract-marriage = Овај извод је издат из матичне књиге венчаних, која се води према Закону бр. 04/L-003 о грађанском стању.
pdf-extract-death = Овај извод је издат из матичне књиге умрлих, која се води према Закону бр. 04/L-003 о грађанском стању.
pdf-legal-basis = Правни основ: Закон бр. 04/L-003 о грађанском стању Републике Косово.

## Field labels
pdf-regno = Матични број уписа
pdf-register = Књига / година / страна / број
pdf-given = Име
pdf-surname = Презиме
pdf-maiden = Девојачко презиме
pdf-surname-before = Презиме пре брака
pdf-surname-after = Презиме после брака
pdf-father-name = Име оца
pdf-dob = Датум рођења
pdf-sex = Пол
pdf-sex-female = женски
pdf-sex-male = мушки
pdf-person-id = Идентификатор особе
pdf-birth-place = Место рођења
pdf-marriage-date = Датум венчања
pdf-marriage-place = Место венчања
pdf-death-date = Датум смрти
pdf-death-place = Место смрти

## Sections: the people of the record, the marriage
pdf-role-child = Дете
pdf-role-mother = Мајка
pdf-role-father = Отац
pdf-role-spouse1 = Први супружник
pdf-role-spouse2 = Други супружник
pdf-role-deceased = Умрли
pdf-marriage = Венчање

## The issue
pdf-issued-by = Издато од
pdf-office = Канцеларија за цивилни статус
pdf-central = Агенција за цивилну регистрацију, централне службе
pdf-date-issue = Датум издавања
pdf-serial = Серијски број
pdf-verify = Проверите: скенирајте QR код са листом поверења Агенције
