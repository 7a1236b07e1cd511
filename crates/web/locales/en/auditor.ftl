## auditor pages
auditor-filter-actor = Author (username)
auditor-filter-subject = Record
auditor-filter-subject-hint = id of a household or a person
auditor-filter-kind = Kind of change
auditor-filter-kind-hint = for example household.update
auditor-filter-from = From
auditor-filter-to = To
auditor-filter-apply = Filter
auditor-trail-title = Audit trail
auditor-trail-intro = Every change of the registry, with its author, time and reason, in the order of the signed log.
auditor-trail-scanned = { $n ->
    [one] { $count } event read for this page
   *[other] { $count } events read for this page
}
auditor-none = No line matches these filters.
auditor-col-seq = No.
auditor-col-at = Time
auditor-col-actor = Author
auditor-col-action = Action
auditor-col-subject = Record
auditor-col-reason = Reason
auditor-col-hash = Hash
auditor-col-purpose = Purpose of the read
auditor-pending = waiting for integration
auditor-access-title = Access log
auditor-access-intro = Who read which personal data, when and why.
auditor-chain-title = Verification of the audit log
auditor-chain-intact = { $n ->
    [one] The log is intact: { $count } event checked, none changed, removed or moved.
   *[other] The log is intact: { $count } events checked, none changed, removed or moved.
}
auditor-chain-broken = The log is NOT intact: an event was changed, removed or moved after the fact.
auditor-chain-problem = First problem found
auditor-chain-checked-at = Checked on
auditor-chain-events = Events checked
auditor-chain-tree = Leaves of the Merkle tree
auditor-chain-root = Recomputed root
auditor-chain-heads = Signed tree heads checked
auditor-chain-unkeyed = signatures not checked: no audit key on this server
auditor-chain-chained = Events of the old chain
auditor-chain-pending = Events recorded and waiting for integration
auditor-chain-pending-since = the oldest since { $since }
auditor-chain-explain = The check recomputes the tree from every event and compares it with the signed heads: a single forged row in the database makes it fail.
auditor-chain-again = Check again
