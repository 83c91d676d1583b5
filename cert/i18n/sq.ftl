# Certifikata e qytetarit (PDF): etiketat e printuara. Çdo çelës ekziston në të katër gjuhët (testi `cert::labels`).


## The heading
pdf-country = Republika e Kosovës
pdf-agency = Agjencia e Regjistrimit Civil

## Titles and the legal basis, by kind of record
pdf-title-birth = EKSTRAKT NGA REGJISTRI I TË LINDURVE
pdf-title-marriage = EKSTRAKT NGA REGJISTRI I TË KURORËZUARVE
pdf-title-death = EKSTRAKT NGA REGJISTRI I TË VDEKURVE
pdf-extract-birth = Ky ekstrakt lëshohet nga regjistri i të lindurve, i mbajtur sipas Ligjit Nr. 04/L-003 për Gjendjen Civile.
pdf-extract-marriage = Ky ekstrakt lëshohet nga regjistri i të kurorëzuarve, i mbajtur sipas Ligjit Nr. 04/L-003 për Gjendjen Civile.
pdf-extract-death = Ky ekstrakt lëshohet nga regjistri i të vdekurve, i mbajtur sipas Ligjit Nr. 04/L-003 për Gjendjen Civile.
pdf-legal-basis = Baza ligjore: Ligji Nr. 04/L-003 për Gjendjen Civile i Republikës së Kosovës.

## Field labels
pdf-regno = Numri i regjistrimit
pdf-register = Libri / viti / faqja / rendi
pdf-given = Emri
pdf-surname = Mbiemri
pdf-maiden = Mbiemri i vajzërisë
pdf-surname-before = Mbiemri para martesës
pdf-surname-after = Mbiemri pas martesës
pdf-father-name = Emri i babait
pdf-dob = Data e lindjes
pdf-sex = Gjinia
pdf-sex-female = femër
pdf-sex-male = mashkull
pdf-person-id = Identifikuesi i personit
pdf-birth-place = Vendi i lindjes
pdf-marriage-date = Data e kurorëzimit
pdf-marriage-place = Vendi i kurorëzimit
pdf-death-date = Data e vdekjes
pdf-death-place = Vendi i vdekjes

## Sections: the people of the record, the marriage
pdf-role-child = Fëmija
pdf-role-mother = Nëna
pdf-role-father = Babai
pdf-role-spouse1 = Bashkëshorti i parë
pdf-role-spouse2 = Bashkëshorti i dytë
pdf-role-deceased = I vdekuri
pdf-marriage = Kurorëzimi

## The issue
pdf-issued-by = Lëshuar nga
pdf-office = Zyra e gjendjes civile
pdf-central = Agjencia e Regjistrimit Civil, shërbimet qendrore
pdf-date-issue = Data e lëshimit
pdf-serial = Numri serik
pdf-verify = Verifikoni: skanoni kodin QR me listën e besimit të Agjencisë
