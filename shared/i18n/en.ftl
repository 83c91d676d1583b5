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

## Task upload (session 11): CSV import progress, rows' reasons in the clerk's language
import-r-field = { $field }: { $problem }
import-r-cells = The row has { $cells } cells but the header has { $columns } columns: a missing or extra separator, or a cut line?
import-r-kind = Kind "{ $value }" is not birth, marriage or death.
import-r-number = "{ $value }" is not a whole number.
import-r-value = the value can not be read: check it (dates as 14.03.1968 or 1968-03-14, sex as male or female).
import-r-municipality = This office registers records of { $own } only, but the row names { $given }.
import-r-unreadable = The row could not be read: check its quotes, and save the file as CSV UTF-8.
import-r-double = Suspected double entry: identical to line { $line } and without a register reference; imported, check the register page.
import-r-already = Imported before as { $regno }.
import-r-repeated = The same register entry (book, year, page, entry) as an earlier row of this file.
import-running = An import is already running at this office (started by { $clerk }, { $read } rows read): wait until it ends, then import this file.
import-job-gone = This import is no longer known (reports are kept for an hour): import the file again; rows imported before are skipped.
import-status = Status
import-status-rejected = Rejected
import-status-check = Imported as { $regno }, check it
import-status-skipped = Imported before
import-reading = Rows read: { $read } of { $total }
import-counting = Counting the file's rows…
import-sending = Sending the file: { $percent }%
import-lost = The connection to the office's app was lost: reload the page and import the file again; nothing is imported twice.
import-unlisted = The report lists the first { $listed } rows of each kind only; the others are counted in the summary. Fix these rows and import the file again.
import-h-none = The file has no header row: its first line must name the columns (kind, child.given_name, …).
import-h-no-kind = The header has no column kind (it names { $found }): add one saying birth, marriage or death for each row.
import-h-unknown = None of the header's columns is known (it names { $found }): expected kind and fields such as child.given_name; the separator must be , ; or tab.
import-h-twice = The header names column { $column } twice: remove one.
import-h-bad-column = Column { $column } is not a known field: see the import's columns (README, "Bulk import").
## Operator dashboard of the hub (task dash: every dashboard page from the catalogues)
dash-app = civreg hub
dash-nav = Dashboard
dash-nav-overview = Overview
dash-nav-conflicts = Conflicts
dash-nav-duplicates = Duplicates
dash-nav-rollout = Rollout
dash-nav-metrics = Metrics
dash-signed-in-as = signed in as
dash-sign-out = Sign out
dash-back-overview = Back to the overview
dash-signin-title = Sign in
dash-signin-name = Operator
dash-signin-password = Password
dash-signin-submit = Sign in
dash-signin-no-accounts = No operator account exists yet: create one on the hub's machine with
dash-signin-expired = The sign-in form had expired: try again.
dash-signin-wrong = wrong operator name or password
dash-signin-impossible = sign-in is not possible: { $detail }
dash-signin-busy = too many sign-ins at once: try again in a minute
dash-signin-throttled = Too many wrong passwords: sign-in is refused for { $secs } s. Try again later.
dash-signin-throttled-hint = If you forgot the password, ask for a new one:
dash-err-title = Something went wrong
dash-err-not-found = Not found
dash-err-forbidden = Refused
dash-err-conflict = Already done
dash-err-bad-request = Check the form
dash-err-busy = Busy
dash-err-csrf = refused: the form has expired or did not come from this dashboard; reload the page and try again
dash-err-internal = internal error: { $detail }
dash-err-access-log = could not write the access log, so the records are not shown: { $detail }
dash-err-no-node = the hub knows no node { $node }
dash-err-no-conflict = no conflict { $id }: the list of conflicts shows the open ones
dash-err-conflict-resolved = conflict { $id } is already resolved, by { $by }
dash-err-conflict-reason = a decision needs a reason: it is kept with the record's history
dash-err-conflict-invalid = with that value record { $regno } would not be valid: { $why }
dash-err-no-case = no duplicate case { $id }: the list of duplicates shows them
dash-err-case-decided = case { $id } was already decided: { $status } by { $by }
dash-err-case-not-linked = case { $id } is not linked: only a linked case can be unlinked
dash-err-choose-side = choose A, B or another value, then record the decision
dash-err-choose-decision = choose link, dismiss or unlink, then record the decision
dash-err-decision-reason = say why: every decision is kept with its reason in the case's history
dash-err-unknown-stage = unknown stage { $stage }: choose planned, pilot, live or suspended
dash-err-stage-reason = a stage change needs a reason: it is kept in the rollout log
dash-err-unknown-municipality = unknown municipality { $code }: choose one from the list (codes as on the overview, e.g. prishtine)
dash-dur-s = { $n } s
dash-dur-min = { $n } min
dash-dur-h = { $n } h
dash-dur-days = { $n ->
    [one] { $n } day
   *[other] { $n } days
}
dash-ago = { $ago } ago
dash-seen-ago = seen { $ago } ago
dash-never-seen = never seen
dash-never = never
dash-by = by { $name }
dash-ops = { $n ->
    [one] { $n } op
   *[other] { $n } ops
}
dash-oldest = oldest { $ago }
dash-lag = lag { $ago }
dash-op = op { $op }
dash-open = open
dash-record = record { $id }
dash-reason-is = reason: { $reason }
dash-resolved-by = resolved by { $name }
dash-no-node = no node
dash-cert-expired = expired
dash-cert-in-days = { $days ->
    [one] in { $days } day
   *[other] in { $days } days
}
dash-stage-planned = planned
dash-stage-pilot = pilot
dash-stage-live = live
dash-stage-suspended = suspended
dash-state-revoked = revoked
dash-state-expired = certificate expired
dash-state-forked = forked
dash-state-online = online
dash-state-offline = not reaching the hub
dash-state-never = never heard from
dash-kind-birth = birth
dash-kind-marriage = marriage
dash-kind-death = death
dash-col-municipality = Municipality
dash-col-stage = Stage
dash-col-nodes = Nodes
dash-col-waiting = Ops waiting
dash-col-acked = Acked, lag
dash-col-conflicts = Open conflicts
dash-col-duplicates = Open duplicates
dash-col-cert = Nearest certificate expiry
dash-col-refusal = Rollout refusal
dash-col-clock = Clock
dash-col-attention = Attention
dash-col-record = Record
dash-col-field = Field
dash-col-state = State
dash-now-title = Needs you now
dash-now-all-well = Nothing needs you now: every office in pilot or live reaches the hub, no queue is stuck, nothing is refused, and no conflict, duplicate or certificate is waiting.
dash-now-municipalities = Municipalities
dash-now-waiting = { $n } waiting
dash-now-rule = An office is "not reaching the hub" when it missed two of its own sync rounds (offices of older versions: no heartbeat for { $window }). Ops waiting are as the office's last heartbeat counted them.
dash-now-refresh = This page reloads every { $secs } s; updated { $updated }.
dash-now-updated = Updated { $updated }.
dash-refresh-pause = Stop reloading this page every { $secs } s
dash-refresh-resume = Reload this page every { $secs } s
dash-now-last-heard = last heard { $ago } ago
dash-now-revoked = { $node }: certificate revoked
dash-now-expired = { $node }: certificate expired
dash-now-expired-detail = it can not sync until it is enrolled again
dash-now-halted = { $node } has stopped registering
dash-now-refused = { $node } refused: { $why }
dash-now-refused-detail = { $ago } ago, until its next successful round
dash-now-blocked = { $node } blocked on op #{ $seq } ({ $record })
dash-now-blocked-detail = refused for good; see `civreg-hub refused`
dash-now-not-reaching = { $node } is not reaching the hub
dash-now-not-reaching-detail = { $seen }; it missed two rounds (due every { $every })
dash-now-queue = { $node }: { $n } ops waiting, the oldest for { $ago }
dash-now-queue-detail = the hub holds up to #{ $seq }
dash-now-queue-heartbeat = (as its heartbeat said { $ago } ago)
dash-now-cert-expires = { $node }: certificate expires in { $days ->
    [one] { $days } day
   *[other] { $days } days
}
dash-now-cert-on = on { $date }
dash-now-conflicts = { $n ->
    [one] { $n } conflict to resolve
   *[other] { $n } conflicts to resolve
}
dash-now-duplicates = { $n ->
    [one] { $n } possible duplicate to review
   *[other] { $n } possible duplicates to review
}
dash-overview-every = Every municipality
dash-overview-summary = Municipalities that need attention now: { $bad }; that should be looked at: { $warn }.
dash-trouble-halted = { $node } has stopped registering: { $why }
dash-trouble-refused = { $node } refused by the rollout
dash-trouble-blocked = { $node } blocked: op #{ $seq } ({ $record }) refused for good; see `civreg-hub refused`
dash-trouble-revoked = { $node }: certificate revoked
dash-trouble-not-reaching = { $node } not reaching the hub
dash-trouble-never = { $node } never heard from
dash-trouble-waiting = { $node } has { $n } ops waiting
dash-trouble-clock = { $node }: the clock is wrong
dash-trouble-cert-expired = { $node }: certificate expired
dash-trouble-cert-expires = { $node }: certificate expires in { $days ->
    [one] { $days } day
   *[other] { $days } days
}
dash-trouble-conflicts = { $n } open conflicts
dash-trouble-duplicates = { $n } open duplicates
dash-node-title = Node { $node }
dash-node-last-seen = Last seen
dash-node-version = Version
dash-node-acked = Last acknowledged op
dash-node-waiting = Ops waiting
dash-node-clock = Clock offset
dash-node-disk = Free disk
dash-node-cert = Certificate
dash-node-cert-expires = expires { $date }
dash-node-cert-serial = serial { $serial }
dash-node-cert-none = no active certificate
dash-node-interval = Sync interval
dash-node-interval-window = not reaching the hub after { $window } without a heartbeat
dash-node-interval-untold = not told by the node
dash-node-last-day = Last day
dash-node-chart-help = Bars: ops the hub acknowledged per hour. Line: the lag (age of the oldest op waiting). Sampled every { $every } in memory: the history starts again when the hub restarts ({ $samples } samples so far).
dash-node-errors = Last errors and refusals
dash-node-halted = stopped registering: { $why }
dash-node-no-errors = none since the hub started
dash-node-blocked = Blocked
dash-node-blocked-why = The hub refuses op #{ $seq } (record { $record }) for good: { $why }
dash-node-blocked-help = Everything this office saved after it waits. After reading the reason with the office, an operator may set the op aside (hash { $hash }):
dash-node-aside = Ops set aside
dash-node-aside-item = op #{ $seq } set aside by { $by } on { $at }: { $reason }
dash-chart-label = ops acknowledged per hour and lag, last 24 hours
dash-chart-bar = { $n } ops acknowledged, lag { $lag }
dash-chart-not-sampled = not sampled
dash-chart-ops = ops/hour (max { $max })
dash-chart-lag = lag (max { $max })
dash-chart-day-ago = 24 h ago
dash-chart-now = now
dash-conflicts-open = Open conflicts
dash-conflicts-all = All conflicts
dash-conflicts-open-of = Open conflicts of { $m }
dash-conflicts-all-of = All conflicts of { $m }
dash-conflicts-open-only = Open ones only
dash-conflicts-include-resolved = Include resolved ones
dash-conflicts-none = No conflicts.
dash-conflicts-a = A (kept for now)
dash-conflicts-back = All open conflicts
dash-conflict = Conflict
dash-conflict-record = Record
dash-conflict-field = field
dash-conflict-explain = two offices wrote it without having seen each other's change.
dash-conflict-a-head = A: kept for now (the later write)
dash-conflict-b-head = B: put aside
dash-conflict-side = by { $clerk } on node { $node } (op { $op })
dash-conflict-resolved-by = Resolved by
dash-conflict-resolve-as = Resolve, as { $name }
dash-conflict-keep-a = Keep A
dash-conflict-keep-b = Keep B
dash-conflict-keep-a-void = Keep A (the void)
dash-conflict-keep-b-edit = Keep B (the edit: restore the record)
dash-conflict-other = Another value
dash-conflict-other-value = The other value
dash-conflict-reason = Reason (kept with the record's history)
dash-conflict-submit = Record the decision
dash-dups-open = Open duplicates
dash-dups-all = All duplicate cases
dash-dups-open-of = Open duplicates of { $m }
dash-dups-all-of = All duplicate cases of { $m }
dash-dups-intro = Pairs of people the matcher found to be probably one person, in the register and among an import's possible matches. Open a case to compare both records, then link them (one person identifier) or dismiss the case (different people). Strongest first.
dash-dups-command = The register is checked for duplicates with
dash-dups-every-municipality = every municipality
dash-dups-include-decided-box = include decided cases
dash-dups-show = Show
dash-dups-none = No duplicates waiting for review.
dash-dups-none-all = No duplicate cases.
dash-dups-count = { $n ->
    [one] { $n } case.
   *[other] { $n } cases.
}
dash-dups-case = Case
dash-dups-weight = Weight
dash-dups-probability = Probability
dash-dups-class = Class
dash-dups-found-by = Found by
dash-dups-a = A (in the register)
dash-dups-b = B (found to duplicate it)
dash-dups-municipalities = Municipalities
dash-dups-filed = Filed
dash-dups-open-only = Open cases only
dash-dups-include-decided = Include decided cases
dash-dups-back = All open duplicates
dash-dup-title = Duplicate case
dash-dup-status-open = open
dash-dup-status-linked = linked
dash-dup-status-dismissed = dismissed
dash-dup-status-unlinked = unlinked
dash-dup-found = The matcher ({ $source }) found these to be probably one person:
dash-dup-weight = weight
dash-dup-probability = probability { $p } %
dash-dup-class = class
dash-dup-filed = Filed { $at }; municipalities { $ms }.
dash-dup-person = The person
dash-dup-role = Role
dash-dup-pid = Person identifier
dash-dup-voided = voided by { $clerk }: { $reason }
dash-dup-same = A and B have the same person identifier: they are one person.
dash-dup-different = A and B have different person identifiers. Rows that differ are highlighted.
dash-dup-records = The two records
dash-dup-people = People and their identifiers
dash-dup-linked-by = linked by { $clerk } (op { $op })
dash-dup-decisions = Decisions
dash-dup-no-decisions = None yet.
dash-dup-decision = Decision
dash-dup-operator = Operator
dash-dup-when = When
dash-dup-reason = Reason
dash-dup-ops = Ops
dash-dup-decided-open = Reopened by
dash-dup-decided-linked = Linked by
dash-dup-decided-dismissed = Dismissed by
dash-dup-decided-unlinked = Unlinked by
dash-dup-decide-as = Decide, as { $name }
dash-dup-reason-label = Reason (kept in the case's history and in the link's op)
dash-dup-link = Link: one person
dash-dup-dismiss = Dismiss: different people
dash-dup-unlink = Unlink: B gets an identifier of its own again
dash-dup-closed = This case is decided; nothing more can be done with it here.
dash-dup-not-recorded = Not recorded
dash-dup-back-to-case = Back to the case
dash-rollout-intro = Planned: no node may connect. Pilot and live: full sync. Suspended: nodes may pull but not push (they keep registering and push when resumed). A change applies at once and is logged with your name and reason.
dash-rollout-kinds = Record kinds
dash-rollout-last-change = Last change
dash-rollout-change-to = Change to
dash-rollout-changed = { $at } by { $by }
dash-rollout-default = default
dash-rollout-stage-of = Stage of { $m }
dash-rollout-reason = reason
dash-rollout-reason-of = Reason for changing { $m }
dash-rollout-change = Change
dash-verify-title = Certificate verification
dash-verify-intro = Scan the certificate's QR code and paste its text here.
dash-verify-qr-label = The QR code's text
dash-verify-check = Verify
dash-verify-valid = VALID
dash-verify-invalid = NOT VALID
dash-verify-pending = NOT YET CONFIRMED
dash-verify-signed-by = signed by { $signer }
dash-verify-pending-why = the signature of { $signer } is genuine, but the office has not reported this certificate yet: issued offline on { $date }.
dash-verify-last-reported = The last certificate reported by { $office }: { $serial }.
dash-verify-none-reported = { $office } has reported no certificate yet.
dash-verify-claims = Signed fields
dash-verify-claim-serial = Serial
dash-verify-claim-record = Record
dash-verify-claim-kind = Kind
dash-verify-claim-issued = Issued
dash-verify-claim-office = Office
dash-verify-claim-version = Record version
dash-verify-claim-event-date = Event date
dash-verify-claim-event-place = Event place
dash-verify-not-held = The agency has not received this record from its office yet: its current state can not be compared.
dash-verify-reported = The issuing office has reported this certificate to the agency.
dash-verify-not-reported = If in doubt, ask the issuing office: it reports what it issued when its line to the agency works again.
dash-refusal-undecodable = the code can not be read as a civreg certificate: { $why }
dash-refusal-unknown-signer = signed by a key the trust list does not know (key id { $kid }); if the certificate is recent, try again later
dash-refusal-bad-signature = the signature does not match the content: the certificate was altered or forged
dash-refusal-signer-expired = signed by { $signer } on { $issued }, outside its validity ({ $from } to { $to })
dash-refusal-signer-revoked = the signer { $signer } was revoked on { $at }: the agency no longer vouches for anything it signed
dash-refusal-foreign-serial = the signature of { $signer } is genuine, but the certified office is { $office } and the serial { $serial } is not one it issues: the certificate was made outside the register
dash-refusal-unknown-serial = serial { $serial } is not in the agency's register: its office has since reported certificates it issued after this one, and not this one
dash-refusal-cancelled = the certificate was cancelled on { $at }: { $reason }
dash-refusal-record-voided = record { $regno } was voided after this certificate was issued
dash-refusal-record-amended = record { $regno } was amended after this certificate was issued (version { $issued } then, { $now } now): ask for a new certificate
