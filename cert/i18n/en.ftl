# A citizen's certificate (PDF): the printed labels. Every key exists in all four languages (the `cert::labels` test).


## The heading
pdf-country = Republic of Kosovo
pdf-agency = Civil Registration Agency

## Titles and the legal basis, by kind of record
pdf-title-birth = EXTRACT FROM THE REGISTER OF BIRTHS
pdf-title-marriage = EXTRACT FROM THE REGISTER OF MARRIAGES
pdf-title-death = EXTRACT FROM THE REGISTER OF DEATHS
pdf-extract-birth = This extract is issued from the register of births, kept under Law No. 04/L-003 on Civil Status.
pdf-extract-marriage = This extract is issued from the register of marriages, kept under Law No. 04/L-003 on Civil Status.
pdf-extract-death = This extract is issued from the register of deaths, kept under Law No. 04/L-003 on Civil Status.
pdf-legal-basis = Legal basis: Law No. 04/L-003 on Civil Status of the Republic of Kosovo.

## Field labels
pdf-regno = Registration number
pdf-register = Book / year / page / entry
pdf-given = Given name
pdf-surname = Surname
pdf-maiden = Maiden surname
pdf-surname-before = Surname before marriage
pdf-surname-after = Surname after marriage
pdf-father-name = Father's given name
pdf-dob = Date of birth
pdf-sex = Sex
pdf-sex-female = female
pdf-sex-male = male
pdf-person-id = Person identifier
pdf-birth-place = Place of birth
pdf-marriage-date = Date of marriage
pdf-marriage-place = Place of marriage
pdf-death-date = Date of death
pdf-death-place = Place of death

## Sections: the people of the record, the marriage
pdf-role-child = Child
pdf-role-mother = Mother
pdf-role-father = Father
pdf-role-spouse1 = First spouse
pdf-role-spouse2 = Second spouse
pdf-role-deceased = Deceased
pdf-marriage = Marriage

## The issue
pdf-issued-by = Issued by
pdf-office = Civil status office
pdf-central = Civil Registration Agency, central services
pdf-date-issue = Date of issue
pdf-serial = Serial number
pdf-verify = Verify: scan the QR code against the Agency's trust list
