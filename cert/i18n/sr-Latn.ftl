# Izvod za građane (PDF): odštampane oznake. Svaki ključ postoji na sva četiri jezika (test `cert::labels`).


## The heading
pdf-country = Republika Kosovo
pdf-agency = Agencija za civilnu registraciju

## Titles and the legal basis, by kind of record
pdf-title-birth = IZVOD IZ MATIČNE KNJIGE ROĐENIH
pdf-title-marriage = IZVOD IZ MATIČNE KNJIGE VENČANIH
pdf-title-death = IZVOD IZ MATIČNE KNJIGE UMRLIH
pdf-extract-birth = Ovaj izvod je izdat iz matične knjige rođenih, koja se vodi prema Zakonu br. 04/L-003 o građanskom stanju.
pdf-extract-marriage = Ovaj izvod je izdat iz matične knjige venčanih, koja se vodi prema Zakonu br. 04/L-003 o građanskom stanju.
pdf-extract-death = Ovaj izvod je izdat iz matične knjige umrlih, koja se vodi prema Zakonu br. 04/L-003 o građanskom stanju.
pdf-legal-basis = Pravni osnov: Zakon br. 04/L-003 o građanskom stanju Republike Kosovo.

## Field labels
pdf-regno = Matični broj upisa
pdf-register = Knjiga / godina / strana / broj
pdf-given = Ime
pdf-surname = Prezime
pdf-maiden = Devojačko prezime
pdf-surname-before = Prezime pre braka
pdf-surname-after = Prezime posle braka
pdf-father-name = Ime oca
pdf-dob = Datum rođenja
pdf-sex = Pol
pdf-sex-female = ženski
pdf-sex-male = muški
pdf-person-id = Identifikator osobe
pdf-birth-place = Mesto rođenja
pdf-marriage-date = Datum venčanja
pdf-marriage-place = Mesto venčanja
pdf-death-date = Datum smrti
pdf-death-place = Mesto smrti

## Sections: the people of the record, the marriage
pdf-role-child = Dete
pdf-role-mother = Majka
pdf-role-father = Otac
pdf-role-spouse1 = Prvi supružnik
pdf-role-spouse2 = Drugi supružnik
pdf-role-deceased = Umrli
pdf-marriage = Venčanje

## The issue
pdf-issued-by = Izdato od
pdf-office = Kancelarija za civilni status
pdf-central = Agencija za civilnu registraciju, centralne službe
pdf-date-issue = Datum izdavanja
pdf-serial = Serijski broj
pdf-verify = Proverite: skenirajte QR kod sa listom poverenja Agencije
