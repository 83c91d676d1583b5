# civreg message catalogue: English.
# Every key here exists in sq.ftl, sr-Latn.ftl and sr-Cyrl.ftl (shared/src/i18n.rs tests it).

app-title = Civil registry
app-office = Office { $office }
lang-label = Language
lang-apply = Apply
skip-to-main = Skip to the content

## Sign-in
nav-home = Home
nav-search = Search
nav-register-birth = Register a birth
nav-register-marriage = Register a marriage
nav-register-death = Register a death
sign-in = Sign in
sign-in-title = Sign in to the civil registry
sign-out = Sign out
signed-in-as = Signed in as { $clerk }
clerk-name = Clerk name
password = Password
sign-in-failed = Unknown clerk or wrong password. Try again.
sign-in-throttled = Too many wrong passwords: sign-in is refused for { $seconds } s. Try again later; if you forgot the password, ask the administrator for a new one.
sign-in-busy = Too many sign-ins at once. Try again in a few seconds.
signed-out = You have signed out.
session-expired = Your session has ended. Sign in again.

## Status bar
status-title = Connection to the hub
status-online = Online
status-offline = Offline: work goes on, and is sent when the link returns
status-not-enrolled = Not enrolled with a hub
status-waiting = { $count ->
    [one] 1 waiting
   *[other] { $count } waiting
}
status-oldest = oldest { $minutes } min
status-last-sync = last sync { $when }
status-never = never synced
status-refused = The hub refuses this office: { $reason }. Call the agency.
status-halted = This office has stopped registering: { $reason }. Call the agency.
status-cert-expires = The office's certificate expires in { $days } days: ask the agency for a new one.
status-cert-expired = The office's certificate has expired: ask the agency for a new one.

## Home
home-title = Today at the office
home-records = Records at this office: { $count }
home-start = What do you want to do?

## Forms
section-record = Record
section-child = Child
section-mother = Mother
section-father = Father (optional)
section-register = Paper register (optional)
section-spouse1 = First spouse
section-spouse2 = Second spouse
section-marriage = Marriage
section-deceased = Deceased
section-death = Death
section-numbers = Personal numbers (optional)
f-given-name = Given name
f-surname = Surname
f-maiden-surname = Maiden surname
f-father-given-name = Father's given name
f-date-of-birth = Date of birth
f-sex = Sex
sex-none = (not given)
sex-male = Male
sex-female = Female
f-jmbg = JMBG
f-kosovo = Kosovo personal number
f-albanian = Albanian personal number
f-place-of-birth = Place of birth
f-book = Book
f-year = Year
f-page = Page
f-entry = Entry
f-notes = Notes
f-surname-before = Surname before marriage
f-surname-after = Surname after marriage
f-date-of-marriage = Date of marriage
f-place-of-marriage = Place of marriage
f-date-of-death = Date of death
f-place-of-death = Place of death
date-hint = e.g. 14.03.1968 or 1968-03-14
place-hint = Any name of the place, in any script: Prishtinë, Priština, Приштина
place-known = { $place } ({ $code })
save = Save
saved = Saved as { $regno }.
saved-warnings = Saved with warnings.
form-problems = The record was not saved. Correct the fields marked below.
form-warnings = Check the warnings below. To save anyway, tick the box and save again.
confirm-warnings = I have checked the warnings and want to save the record as it is
form-already-saved = This form was already saved, as { $regno }: it was not registered twice.
form-date = Write the date as 14.03.1968 or 1968-03-14.
form-number = Write a whole number.
form-register-incomplete = Give the book, year, page and entry of the paper register, or none of them.
form-shape = The record could not be read: { $detail }
form-reason-required = Give the reason.
form-stale = This record was changed since you opened the form (now version { $version }). Nothing was saved: check the record as it is now and make your change again.
jmbg-live-mismatch = The JMBG does not agree with the date of birth or sex typed.

## Search
search-title = Search
search-label = Names, years, places or a personal number
search-button = Search
search-born = Year of birth (e.g. 1968 or 1960..1970)
search-municipality = Municipality
search-kind = Kind
kind-any = any
search-local = Local answer: this office's records only.
search-national = National answer: the hub's register.
search-none = Nothing found.
search-count = { $count ->
    [one] 1 record found
   *[other] { $count } records found
}
search-not-here = Held at the hub, not at this office.
search-bad-born = Write the year of birth as 1968, 1968-03-14 or 1960..1970.
search-too-long = The search is too long (at most 12 words): shorten it.

## Records
kind-birth = Birth
kind-marriage = Marriage
kind-death = Death
record-title = Record { $regno }
record-void = VOID: { $reason }
record-fields = Fields
record-history = History
record-version = Version { $version }
record-change-create = registered
record-change-amend = amended
record-change-void = voided
record-change-annotate = annotated
record-change-link = linked
record-change-restore = restored
record-by = by { $clerk }
record-reason = Reason: { $reason }
record-sync = Sync
record-sync-hub = At the hub
record-sync-here = Saved here, waiting for the hub
record-conflicts = Open conflicts: { $count }
record-amend = Amend
record-void-action = Void
amend-title = Amend { $regno }
void-title = Void { $regno }
f-reason = Reason
void-confirm = Void the record
amended = Amended.
voided = Voided.
no-change = Nothing changed: the record is as it was.

## Errors
err-title = Something went wrong
err-csrf = The form has expired or did not come from this application. Go back, reload the page and try again.
err-too-large = What was sent is too large (at most { $kib } KiB). Nothing was saved.
err-not-found = Not found: { $what }
err-bad-request = The request could not be read: { $detail }
err-internal = Internal error. Nothing was lost; try again, and tell the administrator if it persists.
err-refused = Not saved: { $detail }
err-host = This application answers only to the names it is configured for: open it as http://localhost:PORT or a configured name.
back-home = Back to the start

## Validation (one per code of shared::validate::ALL_CODES)
v-municipality-unknown = Unknown municipality: choose one from the list.
v-name-required = The name is required.
v-name-characters = A name may hold letters only, no digits or signs.
v-name-too-long = The name is too long (at most 100 characters).
v-text-too-long = The text is too long (at most 2,000 characters).
v-place-required = The place is required.
v-birth-date-required = The child's date of birth is required.
v-birth-sex-required = The child's sex is required.
v-date-future = The date lies in the future.
v-death-before-birth = The date of death lies before the date of birth.
v-parent-too-young = The parent would be less than 12 years older than the child: check both dates.
v-spouse-born-after-marriage = The spouse was born after the marriage: check both dates.
v-spouse-under-16 = The spouse was under 16 at the marriage.
v-spouse-under-18 = The spouse was under 18 at the marriage: check the dates.
v-register-book-required = The register book is required.
v-register-year-range = The register year must lie between 1900 and this year.
v-register-page = The page must be a number from 1.
v-register-entry = The entry must be a number from 1.
v-register-year-before-event = The register year lies before the event it records.
v-jmbg-length = A JMBG has 13 digits.
v-jmbg-character = A JMBG holds digits only.
v-jmbg-date = The JMBG's first seven digits are not a real date.
v-jmbg-region = The JMBG's region (digits 8 and 9) is not in use.
v-jmbg-checksum = The JMBG's check digit is wrong: check the number against the document.
v-jmbg-check-ten = The JMBG's check digit is 0 where the computation gives 10: confirm the number against the document.
v-jmbg-date-mismatch = The JMBG does not agree with the date of birth.
v-jmbg-sex-mismatch = The JMBG does not agree with the sex.
v-jmbg-duplicate = The same JMBG is given for two people of the record.
v-kosovo-length = A Kosovo personal number has 10 digits.
v-kosovo-character = A Kosovo personal number holds digits only.
v-kosovo-checksum = The Kosovo personal number's last digit does not match the usual check: confirm it against the document.
v-albanian-length = An Albanian personal number is a letter, 8 digits and a letter.
v-albanian-character = An Albanian personal number is a letter, 8 digits and a letter.
v-albanian-decade = The Albanian personal number's first letter is not a known decade.
v-albanian-date = The Albanian personal number does not hold a real date.
v-albanian-checksum = The Albanian personal number's check letter is wrong.
v-albanian-date-mismatch = The Albanian personal number does not agree with the date of birth.
v-albanian-sex-mismatch = The Albanian personal number does not agree with the sex.
v-op-record-id = The registration number is not valid.
v-op-kind = The kind of record does not match its number.
v-op-too-many-changes = Too many fields are changed at once.
v-op-too-large = The change is too large.
v-op-clerk = The clerk's name is not valid.
v-op-reason-too-long = The reason is too long.
v-op-changes = The change is not valid.
v-record-shape = The record could not be read.
v-field-unknown = Unknown field.
v-field-value = The value is not valid for this field.
v-field-required = This field is required.
v-field-municipality = A record's municipality can not be changed.
v-annotation-path = The annotation is not valid.
v-annotation-office = The annotation belongs to another office.
v-annotation-incomplete = The annotation is incomplete.
v-annotation-event = Unknown event for an annotation.
v-annotation-record = The annotation's record number is not valid.

## Printing a certificate from the record page
cert-title = Print a certificate
cert-lang = Language of the certificate
cert-lang-sq = Albanian, then Serbian
cert-lang-sr = Serbian, then Albanian
cert-lang-en = Albanian and Serbian, with English
cert-collector = Who collects it (given name and surname)
cert-collector-hint = As written on the identity document they showed. Do not type the document's number.
cert-id-document = Identity document shown
cert-id-id-card = Identity card
cert-id-passport = Passport
cert-id-driving-licence = Driving licence
cert-id-residence-permit = Residence permit
cert-id-other = Other
cert-print = Print the certificate (PDF)
cert-no-signer = This office has no document signer yet, so it cannot print certificates. Ask the agency for one.
cert-void = The record is void: no certificate is issued of it.
cert-collector-required = Type the name of the person collecting the certificate, as on their document, without special characters.
cert-id-required = Choose the kind of identity document that was shown.
cert-lang-required = Choose the certificate's language.
cert-printed = Certificates printed
cert-serial = Serial number
cert-when = When
cert-by = Clerk
cert-for = For
cert-version = Record version
cert-none = No certificate printed yet.

## The duplicate check before saving a birth or death
dupes-title = Possibly registered already
dupes-intro = These records look like the one you are entering. If it is the same person, open the existing record; otherwise confirm that this is a new entry.
dupes-count = { $count ->
    [one] 1 similar record
   *[other] { $count } similar records
}
dupes-typed = What you typed
dupes-record = Record
dupes-people = People
dupes-open = Open the existing record
dupes-new = A different person: save as a new entry
record-dupes-checked = Checked for duplicates: { $regnos } looked alike; the clerk confirmed a new entry.

## Today's work on the start page
today-title = Today's work
today-summary = Entries today: { $count }. Waiting to be sent to the agency: { $waiting }.
today-mine = Mine
today-office = Others at this office
today-time = Time
today-change = What
today-clerk = Clerk

## Noting an event on a birth record (annotation)
annotate-title = Note an event
annotate-heading = Note an event on { $regno }
annotate-intro = An annotation notes on a birth record a marriage, death or divorce registered elsewhere. It never changes the record's own fields.
annotate-link = Note an event
annotate-event = Event
annotate-event-marriage = Marriage
annotate-event-death = Death
annotate-event-divorce = Divorce
annotate-event-other = Other
annotate-date = Date of the event
annotate-place = Place of the event
annotate-record = Registration number of the event
annotate-record-hint = The number of the marriage or death record, if it is registered.
annotate-text = Note
annotate-save = Save the annotation
annotate-sent = The annotation is saved. It goes to the agency at the next sync.
annotate-event-required = Choose the event.
annotate-not-known = This record is not known here: find it first with a national search while the line works, then note the event from the answer.
annotate-bad-regno = This is not a registration number.
annotated = The annotation is saved.

## Importing a CSV of register pages
import-title = Import CSV
import-intro = Choose a CSV file of register pages (the columns of `civreg-node import`; separated by , ; or tab; dates as 14.03.1968). Up to { $mib } MiB. Rejected rows are shown here with their line and reasons; nothing is imported twice.
import-file = CSV file
import-start = Import
import-busy = Importing…
import-line = Line
import-reasons = Reasons
import-download = Download the report
import-noscript = This page needs JavaScript; otherwise use `civreg-node import`.
import-summary = Rows: { $rows }. Imported: { $accepted }. Imported before: { $skipped }. Rejected: { $rejected }.
import-too-large = The file is larger than { $mib } MiB: split it into several files.
import-empty = The file is empty.
import-not-csv = This is not a CSV (text) file: save it as CSV and try again.
import-unreadable = The file could not be read: { $detail }

# ---- dupes (session 11): the duplicate check scored by the linkage model, side by side ----
dupes-caption = What you typed beside each record found, field by field
dupes-field = Field
dupes-typed-new = New entry
dupes-none = not given
dupes-f-father = Father's given name
dupes-f-mother = Mother's given name
dupes-f-mother-maiden = Mother's maiden surname
dupes-f-pnum = Personal number
dupes-f-municipality = Registered in
dupes-strength-match = Very likely the same person
dupes-strength-possible = Possibly the same person
dupes-strength-same-number = Same personal number, other details differ
dupes-strength-unscored = Too little is known to compare
dupes-partial = Held at another office: only the names and the date and place of birth are known here; the other fields were not compared.
dupes-m-agree = Agrees
dupes-m-agree-spelling = Agrees (another spelling or script)
dupes-m-sounds = Close: sounds the same
dupes-m-typo = Close: a typing error apart
dupes-m-swapped = Close: given name and surname swapped
dupes-m-other-surname = Close: matches an earlier surname
dupes-m-date-swapped = Close: day and month swapped
dupes-m-digit = Close: one digit apart
dupes-m-same-year = Close: same year
dupes-m-year-apart = Close: one year apart
dupes-m-close = Close
dupes-m-differ = Differs
dupes-m-unknown = Not compared: missing on one side
