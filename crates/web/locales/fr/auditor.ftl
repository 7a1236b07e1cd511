## auditor pages
auditor-filter-actor = Auteur (identifiant)
auditor-filter-subject = Dossier
auditor-filter-subject-hint = identifiant d'un ménage ou d'une personne
auditor-filter-kind = Type de changement
auditor-filter-kind-hint = par exemple household.update
auditor-filter-from = Du
auditor-filter-to = Au
auditor-filter-apply = Filtrer
auditor-trail-title = Journal d'audit
auditor-trail-intro = Chaque changement du registre, avec son auteur, sa date et sa raison, dans l'ordre du journal signé.
auditor-trail-scanned = { $n ->
    [one] { $count } événement parcouru pour cette page
   *[other] { $count } événements parcourus pour cette page
}
auditor-none = Aucune ligne ne correspond à ces filtres.
auditor-col-seq = N°
auditor-col-at = Date
auditor-col-actor = Auteur
auditor-col-action = Action
auditor-col-subject = Dossier
auditor-col-reason = Raison
auditor-col-hash = Empreinte
auditor-col-purpose = Motif de la consultation
auditor-pending = en attente d'intégration
auditor-access-title = Journal des accès
auditor-access-intro = Qui a consulté quelles données personnelles, quand et pourquoi.
auditor-chain-title = Vérification du journal d'audit
auditor-chain-intact = { $n ->
    [one] Le journal est intact : { $count } événement vérifié, aucun n'a été modifié, retiré ou déplacé.
   *[other] Le journal est intact : { $count } événements vérifiés, aucun n'a été modifié, retiré ou déplacé.
}
auditor-chain-broken = Le journal n'est PAS intact : un événement a été modifié, retiré ou déplacé après coup.
auditor-chain-problem = Premier problème trouvé
auditor-chain-checked-at = Vérifié le
auditor-chain-events = Événements vérifiés
auditor-chain-tree = Feuilles de l'arbre de Merkle
auditor-chain-root = Racine recalculée
auditor-chain-heads = Têtes d'arbre signées vérifiées
auditor-chain-unkeyed = signatures non vérifiées : clé d'audit absente sur ce serveur
auditor-chain-chained = Événements de l'ancienne chaîne
auditor-chain-pending = Événements enregistrés en attente d'intégration
auditor-chain-pending-since = le plus ancien depuis { $since }
auditor-chain-explain = La vérification recalcule l'arbre à partir de chaque événement et le compare aux têtes signées : une seule ligne falsifiée dans la base suffit à la faire échouer.
auditor-chain-again = Vérifier à nouveau
