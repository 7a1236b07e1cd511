## manager pages
done-programme-saved = The new version of the programme is saved and in force.
done-model-activated = The model is active; the registry is being rescored.
done-cycle-prepared = The cycle is computed. Another manager must approve it.
done-cycle-approved = The cycle is approved. Its payment files can be made.
done-cycle-cancelled = The cycle is cancelled. Nothing will be paid from it.
done-batches-opened = The payment batches are ready.
manager-area-urban = urban
manager-area-rural = rural
manager-problem-same-manager = You prepared this cycle, so you cannot approve it. Another manager must approve it.
manager-problem-over-budget = The cycle goes over its budget cap. Nothing was written.
manager-problem-cycle-exists = This programme already has a cycle for this month.
manager-problem-not-computed = This cycle is not waiting for approval.
manager-problem-not-approved = This cycle is not approved yet: a second manager must approve it before any file leaves.
manager-problem-approved = This cycle is already approved and can no longer be cancelled.
manager-problem-period = Write the month as YYYY-MM, for example 2026-01.
manager-problem-cap = Write the cap in dirhams, with digits only (for example 1500000 or 1500000.50).
manager-problem-no-cash = This programme pays no money (its members are insured), so it has no payment cycle.
manager-problem-reason = Say why: the reason is required.
manager-problem-programme = The programme cannot be saved as it is.
manager-problem-line = Line { $line } of the file is wrong (field { $field }).
manager-rule-error = The condition cannot be read at line { $line }, column { $column }.
manager-rule-error-file = The condition cannot be read.
manager-unit-household = per household
manager-unit-person = per person
manager-frequency-monthly = every month
manager-frequency-quarterly = every three months
manager-frequency-yearly = every year
manager-frequency-once = once
manager-frequency-none = no cash (insurance)
manager-cap-of = cap { $cap }
manager-programmes-title = Programmes
manager-programmes-intro = The programmes in force, their conditions and who is in them.
manager-programmes-none = No programme is defined yet.
manager-col-programme = Programme
manager-col-condition = Condition
manager-col-benefit = Benefit
manager-col-enrolled = Enrolled
manager-col-eligible = Eligible, not enrolled
manager-col-region = Region
manager-col-admitted = Eligible
manager-col-refused = Not eligible
manager-col-undecided = Cannot tell
manager-col-model = Model
manager-col-version = Version
manager-col-state = State
manager-col-r2 = Fit (R²)
manager-col-imported = Recorded
manager-col-action = Action
manager-col-now = Eligible now
manager-col-then = Eligible with this model
manager-col-entering = Entering
manager-col-leaving = Leaving
manager-col-area = Area
manager-col-cycle = Cycle
manager-col-period = Month
manager-col-entitlements = Entitlements
manager-col-total = Total
manager-col-prepared = Prepared by
manager-col-approved = Approved by
manager-col-skipped = Left out
manager-col-batch = Batch
manager-col-means = Paid by
manager-col-payments = Payments
manager-col-progress = Progress
manager-col-file = File
manager-version = version { $version }
manager-try-title = Try a condition
manager-try-rule = Condition
manager-try-rule-hint = For example household.index <= 9.3 && members.size() >= 3
manager-try-check = Check
manager-counts-title = Households this condition admits
manager-counts-summary = { $n ->
    [one] { $count } household would be eligible
   *[other] { $count } households would be eligible
}
manager-counts-of = { $n ->
    [one] out of { $count } in the registry.
   *[other] out of { $count } in the registry.
}
manager-total = Total
manager-counts-read-at = Registry read on { $at }.
manager-counts-nothing-saved = Nothing was saved.
manager-conditions-title = Conditions
manager-conditions-intro = A household must meet every condition. Change them, check how many households they admit, then save a new version.
manager-condition-message = When it fails, the household reads: { $message }
manager-reason = Reason
manager-reason-save-hint = Why the conditions change (kept in the audit trail)
manager-conditions-save = Save a new version
manager-back-programmes = Back to the programmes
manager-start = In force from
manager-end = Until
manager-threshold = Index threshold
manager-models-title = Index models
manager-models-intro = The versions of the index model. One is active; try another on the registry before activating it.
manager-models-none = No model is recorded yet.
manager-model-active = active
manager-model-inactive = not active
manager-not-recorded = not recorded
manager-model-dry-run = Try it
manager-model-title = Model { $id }, version { $version }
manager-model-activated-at = Active since
manager-dry-run-title = What would change
manager-dry-run-intro = { $n ->
    [one] Tried on { $count } household of the registry: households entering and leaving each programme.
   *[other] Tried on { $count } households of the registry: households entering and leaving each programme.
}
manager-dry-run-none = No programme is defined, so nothing would change.
manager-dry-run-totals = By programme
manager-dry-run-detail = By region and area
manager-model-activate = Activate this model
manager-back-models = Back to the models
manager-activate-title = Activate a model
manager-activate-question = Make model { $id }, version { $version } the one every household is scored with?
manager-activate-explain = Every household will be scored again and every programme checked again. Households may enter or leave programmes.
manager-reason-required = Required
manager-activate-confirm = Yes, activate
manager-cancel-back = No, go back
manager-cycles-title = Payment cycles
manager-cycles-intro = Each cycle pays a programme for one month. One manager prepares it, another approves it.
manager-cycles-none = No cycle yet.
manager-cycle-number = No. { $id }
manager-not-yet = not yet
manager-prepare-title = Prepare a cycle
manager-prepare-intro = See first what the cycle would pay. Nothing is written until you prepare it.
manager-period-hint = year and month
manager-cap = Budget cap
manager-cap-hint = in dirhams; empty for the programme's own cap
manager-preview = See what it would pay
manager-preview-title = { $programme }, { $period }: what the cycle would pay
manager-preview-over = The cycle goes over its cap by { $over }. Lower the amounts or raise the cap.
manager-prepare = Prepare the cycle
manager-cycle-computing = being computed
manager-cycle-computed = waiting for approval
manager-cycle-approved = approved
manager-cycle-cancelled = cancelled
manager-skip-not-scored = Left out: household not scored yet
manager-skip-not-current = Left out: score older than the household's last change
manager-skip-no-amount = Left out: nothing to pay
manager-skip-not-eligible = Left out: no longer eligible
manager-skip-condition = Left out: { $reason }
manager-cycle-title = Cycle no. { $id }
manager-rules-on = rules and amounts of { $date }
manager-no-cap = no cap
manager-approve-title = Approve
manager-approve-own = You prepared this cycle: another manager must approve it.
manager-approve = Approve the cycle
manager-cancel-title = Cancel
manager-cancel = Cancel the cycle
manager-open-batches = Make the payment batches
manager-open-batches-hint = one batch per means of payment
manager-batches-title = Payment batches
manager-batches-none = No batch yet.
manager-progress-paid = { $n ->
    [one] { $count } paid
   *[other] { $count } paid
}
manager-progress-failed = { $n ->
    [one] { $count } failed
   *[other] { $count } failed
}
manager-progress-sent = { $n ->
    [one] { $count } waiting for the answer
   *[other] { $count } waiting for the answer
}
manager-progress-uncounted = too many payments to count here
manager-file-format = File format
manager-format-pain001 = ISO 20022 (pain.001)
manager-format-csv = CSV
manager-download-again = Download again
manager-export = Make the file
manager-reconcile-title = The provider's answer
manager-reconcile-intro = Send the file the bank or the provider sent back (camt.054 or CSV). Every line is checked before anything is written.
manager-reconcile-nothing = Nothing was changed.
manager-reconcile-already = The file { $file } was already read. Nothing was done again.
manager-reconcile-done = { $n ->
    [one] The file { $file } was read: { $count } line.
   *[other] The file { $file } was read: { $count } lines.
}
manager-outcome-paid = Paid
manager-outcome-failed = Failed
manager-outcome-reversed = Returned
manager-outcome-unchanged = Already known
manager-reconcile-file = Answer file
manager-reconcile-file-hint = camt.054 (XML) or CSV
manager-reconcile = Read the answer
manager-reconcile-empty = Choose a file first: the form came without one.
manager-back-cycles = Back to the cycles
manager-means-bank = bank transfer
manager-means-wallet = mobile wallet
manager-means-cash = cash at an agency
manager-batch-open = ready
manager-batch-exported = file made
