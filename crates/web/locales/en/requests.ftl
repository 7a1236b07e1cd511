## Requests and complaints: the citizen's list, the forms, a request's page, the queue, the
## public follow-up and the report of delays.

nav-my-requests = My requests
nav-requests = Requests
nav-delays = Delays

done-request-moved = Done. The request has moved on.
done-request-reopened = Your complaint is open again. It will be looked at once more.
done-request-rated = Thank you for your opinion.

requests-mine-title = My requests and complaints
requests-mine-intro = Here you see every request of your household and where it stands.
requests-household-title = Requests of household { $id }
requests-household-intro = The requests of this household. You can file a new one for the citizen, with their agreement.
requests-offers-title = Ask for something
requests-offer-programme_application = Apply to a programme
requests-offer-disability_card = Ask for a disability card
requests-offer-registration_attestation = Ask for a registration attestation
requests-offer-household_change = Declare a change in the household
requests-offer-complaint = Complain or suggest
requests-list-title = Your requests
requests-none = No request for now.
requests-follow-link = Follow a request with its reference and code
requests-overdue = Late
requests-due = To be handled by { $date }
requests-submitted-on = Sent on { $date }
requests-steps-left = { $n ->
    [one] About { $count } step left
   *[other] About { $count } steps left
}
requests-state-open = In progress

requests-outcome-approved = Approved
requests-outcome-issued = Issued
requests-outcome-resolved = Answered
requests-outcome-rejected = Refused
requests-outcome-withdrawn = Withdrawn
requests-outcome-closed = Closed

requests-grievance-complaint = A complaint
requests-grievance-suggestion = A suggestion
requests-grievance-observation = An observation
requests-grievance-what = Is it a complaint, a suggestion or an observation?
requests-category = What is it about?
requests-category-choose = Choose a subject
requests-which-programme = Which programme do you apply to?
requests-assisted-title = { $service }, for household { $id }
requests-details-legend = Your request
requests-details = What you ask, in a few words
requests-details-hint = Write it as you would say it. Do not write passwords or bank card numbers.
requests-documents = Documents
requests-documents-asked = Documents asked for:
requests-documents-none-asked = No document is required. You may add one if it helps.
requests-documents-hint = { $n ->
    [one] At most { $count } file, PDF, JPEG or PNG, 900 KB each.
   *[other] At most { $count } files, PDF, JPEG or PNG, 900 KB each.
}
requests-channel = How the citizen asked
requests-channel-centre = At the centre
requests-channel-phone = By phone
requests-channel-web = Online
requests-send = Send the request

requests-error-too-many-documents = { $n ->
    [one] Send at most { $count } file.
   *[other] Send at most { $count } files.
}
requests-error-documents-required = Add the documents asked for.
requests-error-documents-too_many = Send at most 3 files.
requests-error-details-required = Write what happened, in a few words.
requests-error-details-too_long = This text is too long (4,000 characters at most).
requests-error-programme-unknown_programme = Choose the programme you apply to.
requests-error-category-unknown_category = Choose what the complaint is about.
requests-error-grievance-unknown = Choose a complaint, a suggestion or an observation.
requests-error-consent-required = The citizen's agreement is needed to file it for them.
requests-error-reason-required = Write the reason: the citizen will read it.
requests-error-rating-range = Choose a mark from 1 to 5.
requests-error-comment-too_long = This comment is too long (1,000 characters at most).

requests-submitted-title = Your request was sent
requests-submitted-text = Your request ({ $service }) was received. Keep the reference and the code below: with them you can follow your request, even without signing in.
requests-reference = Reference
requests-secret = Follow-up code
requests-secret-once = The code is shown only once. Write it down or take a photo of this screen.
requests-see-it = See my request

requests-detail-title = { $service } — { $reference }
requests-back = Back to the list
requests-where-it-stands = Where it stands
requests-service = Service
requests-about = About
requests-step = Step
requests-state = State
requests-deadline = Deadline
requests-progress = Progress
requests-submitted = Sent on
requests-closed = Closed on
requests-updated = Last change
requests-centre = Handled by
requests-escalated = Late, passed to
requests-see-household = See the household
requests-answer = The answer
requests-actions-title = What you can do now
requests-reason-required = Reason (required, the citizen will read it)
requests-reason-optional = Comment (optional)
requests-reopen-title = The answer does not settle it?
requests-reopen-reason = Say why
requests-reopen = Reopen the complaint
requests-rate-title = Give your opinion
requests-rate-legend = How satisfied are you with this service?
requests-rate-mark = { $n ->
    [one] { $count } out of 5 — very unhappy
    [2] { $count } out of 5 — unhappy
    [3] { $count } out of 5 — fair
    [4] { $count } out of 5 — happy
   *[other] { $count } out of 5 — very happy
}
requests-rate-comment = Comment (optional)
requests-rate-send = Send my opinion
requests-rated = You gave this service { $count } out of 5. Thank you.
requests-documents-given = Documents given
requests-kilobytes = { $count } KB
requests-timeline = What happened
requests-filed-assisted = Filed at the centre for the citizen, with their consent.
requests-here-now = It is here now
requests-stayed = Stayed { $time }
requests-waiting-since = Waiting for { $time }
requests-conflict-title = Someone else moved this request
requests-conflict-text = It moved while you were reading it. Here is where it stands now; check it before you act.

requests-days = { $n ->
    [one] { $count } day
   *[other] { $count } days
}
requests-hours = { $n ->
    [one] { $count } hour
   *[other] { $count } hours
}
requests-minutes = { $n ->
    [one] { $count } minute
   *[other] { $count } minutes
}

requests-action-submit = Send
requests-action-withdraw = Withdraw the request
requests-action-documents_complete = The documents are complete
requests-action-ask_for_documents = Ask for documents
requests-action-opinion_given = The committee gave its opinion
requests-action-grant = Grant the card
requests-action-refuse = Refuse
requests-action-reject = Refuse
requests-action-approve = Approve
requests-action-confirm = Confirm
requests-action-visit_needed = A home visit is needed
requests-action-no_visit_needed = No visit is needed
requests-action-visit_confirms = The visit confirms the change
requests-action-visit_contradicts = The visit contradicts the change
requests-action-apply_update = Apply the change to the household
requests-action-route_to_unit = Send to the responsible unit
requests-action-close = Close without follow-up
requests-action-assign = Take it in hand
requests-action-send_back = Send back to the reception
requests-action-propose_answer = Propose an answer
requests-action-send_answer = Send the answer
requests-action-rework = Rework the answer
requests-action-reopen = Reopened by the citizen

requests-unit-registry_unit = Registry unit
requests-unit-targeting_unit = Targeting unit
requests-unit-payments_unit = Payments unit
requests-unit-health_insurance_unit = Health insurance unit
requests-unit-disability_unit = Disability unit
requests-unit-citizen_relations = Citizen relations
requests-unit-inspection_unit = Inspection

doc-national-id = the national identity card
doc-medical-certificate = a medical certificate
doc-photo = a recent photo
doc-medical-report = the medical committee's report
doc-household-composition = a proof of the household's members
doc-change-proof = a proof of the change
doc-visit-report = the home visit report

requests-queue-title = Requests to handle
requests-queue-intro = The requests waiting for you in your territory, the most urgent first.
requests-queue-overdue = { $n ->
    [one] { $count } request is late.
   *[other] { $count } requests are late.
}
requests-all-services = All services
requests-filter = Show

requests-follow-title = Follow a request
requests-follow-intro = Type the reference and the code you received when you sent your request. No account is needed.
requests-reference-hint = For example SR-2026-0000123-4
requests-secret-hint = The 6 characters given with the reference
requests-follow-send = See where it stands
requests-follow-not-found = No request matches this reference and code. Check both and try again.

requests-delays-title = Delays and bottlenecks
requests-delays-intro = How long each step takes, where requests wait, and what citizens think of the service.
requests-territory = Territory
requests-territory-hint = A region, province or commune code; empty for all of yours
requests-waiting-most = { $n ->
    [one] Most requests are waiting at: { $step } ({ $count })
   *[other] Most requests are waiting at: { $step } ({ $count })
}
requests-delays-none-waiting = No request is waiting right now.
requests-delays-steps = Time per step
requests-delays-centres = Time per centre
requests-delays-territories = Time per territory
requests-delays-empty = Nothing to show yet.
requests-ratings-title = Satisfaction of citizens
requests-ratings-none = No opinion given yet.
requests-out-of-five = { $mark } out of 5
requests-col-service = Service
requests-col-step = Step
requests-col-centre = Centre
requests-col-territory = Territory
requests-col-finished = Done
requests-col-median = Usual time (median)
requests-col-p90 = 9 out of 10 within
requests-col-open = Waiting now
requests-col-waiting = Usual wait so far
requests-col-breaches = Late
requests-col-median-seconds = Median (seconds)
requests-col-p90-seconds = 90th percentile (seconds)
requests-col-waiting-seconds = Median wait so far (seconds)
requests-col-average = Average mark
requests-col-ratings = Opinions
