## manager pages
done-programme-saved = La nouvelle version du programme est enregistrée et en vigueur.
done-model-activated = Le modèle est actif ; le registre est en cours de recalcul.
done-cycle-prepared = Le cycle est calculé. Un autre gestionnaire doit l'approuver.
done-cycle-approved = Le cycle est approuvé. Ses fichiers de paiement peuvent être faits.
done-cycle-cancelled = Le cycle est annulé. Rien ne sera payé sur ce cycle.
done-batches-opened = Les lots de paiement sont prêts.
manager-area-urban = urbain
manager-area-rural = rural
manager-problem-same-manager = Vous avez préparé ce cycle : vous ne pouvez pas l'approuver. Un autre gestionnaire doit l'approuver.
manager-problem-over-budget = Le cycle dépasse son plafond budgétaire. Rien n'a été écrit.
manager-problem-cycle-exists = Ce programme a déjà un cycle pour ce mois.
manager-problem-not-computed = Ce cycle n'attend pas d'approbation.
manager-problem-not-approved = Ce cycle n'est pas encore approuvé : un second gestionnaire doit l'approuver avant qu'un fichier parte.
manager-problem-approved = Ce cycle est déjà approuvé et ne peut plus être annulé.
manager-problem-period = Écrivez le mois sous la forme AAAA-MM, par exemple 2026-01.
manager-problem-cap = Écrivez le plafond en dirhams, en chiffres (par exemple 1500000 ou 1500000,50).
manager-problem-no-cash = Ce programme ne verse pas d'argent (ses membres sont assurés) : il n'a pas de cycle de paiement.
manager-problem-reason = Dites pourquoi : le motif est obligatoire.
manager-problem-programme = Le programme ne peut pas être enregistré tel quel.
manager-problem-line = La ligne { $line } du fichier est fausse (champ { $field }).
manager-rule-error = La condition est illisible à la ligne { $line }, colonne { $column }.
manager-rule-error-file = La condition est illisible.
manager-unit-household = par ménage
manager-unit-person = par personne
manager-frequency-monthly = chaque mois
manager-frequency-quarterly = chaque trimestre
manager-frequency-yearly = chaque année
manager-frequency-once = une fois
manager-frequency-none = sans argent (assurance)
manager-cap-of = plafond { $cap }
manager-programmes-title = Programmes
manager-programmes-intro = Les programmes en vigueur, leurs conditions et qui en bénéficie.
manager-programmes-none = Aucun programme n'est encore défini.
manager-col-programme = Programme
manager-col-condition = Condition
manager-col-benefit = Prestation
manager-col-enrolled = Inscrits
manager-col-eligible = Éligibles non inscrits
manager-col-region = Région
manager-col-admitted = Éligibles
manager-col-refused = Non éligibles
manager-col-undecided = Indécidable
manager-col-model = Modèle
manager-col-version = Version
manager-col-state = État
manager-col-r2 = Ajustement (R²)
manager-col-imported = Enregistré
manager-col-action = Action
manager-col-now = Éligibles aujourd'hui
manager-col-then = Éligibles avec ce modèle
manager-col-entering = Entrants
manager-col-leaving = Sortants
manager-col-area = Milieu
manager-col-cycle = Cycle
manager-col-period = Mois
manager-col-entitlements = Droits
manager-col-total = Total
manager-col-prepared = Préparé par
manager-col-approved = Approuvé par
manager-col-skipped = Écartés
manager-col-batch = Lot
manager-col-means = Payé par
manager-col-payments = Paiements
manager-col-progress = Avancement
manager-col-file = Fichier
manager-version = version { $version }
manager-try-title = Essayer une condition
manager-try-rule = Condition
manager-try-rule-hint = Par exemple household.index <= 9.3 && members.size() >= 3
manager-try-check = Vérifier
manager-counts-title = Ménages admis par cette condition
manager-counts-summary = { $n ->
    [one] { $count } ménage serait éligible
   *[other] { $count } ménages seraient éligibles
}
manager-counts-of = { $n ->
    [one] sur { $count } au registre.
   *[other] sur { $count } au registre.
}
manager-total = Total
manager-counts-read-at = Registre lu le { $at }.
manager-counts-nothing-saved = Rien n'a été enregistré.
manager-conditions-title = Conditions
manager-conditions-intro = Un ménage doit remplir toutes les conditions. Modifiez-les, vérifiez combien de ménages elles admettent, puis enregistrez une nouvelle version.
manager-condition-message = En cas d'échec, le ménage lit : { $message }
manager-reason = Motif
manager-reason-save-hint = Pourquoi les conditions changent (gardé dans le journal d'audit)
manager-conditions-save = Enregistrer une nouvelle version
manager-back-programmes = Retour aux programmes
manager-start = En vigueur depuis
manager-end = Jusqu'au
manager-threshold = Seuil de l'indice
manager-models-title = Modèles d'indice
manager-models-intro = Les versions du modèle d'indice. Une seule est active ; essayez-en une autre sur le registre avant de l'activer.
manager-models-none = Aucun modèle n'est encore enregistré.
manager-model-active = actif
manager-model-inactive = inactif
manager-not-recorded = non enregistré
manager-model-dry-run = L'essayer
manager-model-title = Modèle { $id }, version { $version }
manager-model-activated-at = Actif depuis
manager-dry-run-title = Ce qui changerait
manager-dry-run-intro = { $n ->
    [one] Essayé sur { $count } ménage du registre : ménages qui entrent dans chaque programme ou en sortent.
   *[other] Essayé sur { $count } ménages du registre : ménages qui entrent dans chaque programme ou en sortent.
}
manager-dry-run-none = Aucun programme n'est défini : rien ne changerait.
manager-dry-run-totals = Par programme
manager-dry-run-detail = Par région et milieu
manager-model-activate = Activer ce modèle
manager-back-models = Retour aux modèles
manager-activate-title = Activer un modèle
manager-activate-question = Faire du modèle { $id }, version { $version }, celui qui calcule l'indice de chaque ménage ?
manager-activate-explain = Chaque ménage sera recalculé et chaque programme vérifié à nouveau. Des ménages peuvent entrer dans des programmes ou en sortir.
manager-reason-required = Obligatoire
manager-activate-confirm = Oui, activer
manager-cancel-back = Non, revenir
manager-cycles-title = Cycles de paiement
manager-cycles-intro = Chaque cycle paie un programme pour un mois. Un gestionnaire le prépare, un autre l'approuve.
manager-cycles-none = Aucun cycle pour l'instant.
manager-cycle-number = N° { $id }
manager-not-yet = pas encore
manager-prepare-title = Préparer un cycle
manager-prepare-intro = Voyez d'abord ce que le cycle paierait. Rien n'est écrit avant que vous le prépariez.
manager-period-hint = année et mois
manager-cap = Plafond budgétaire
manager-cap-hint = en dirhams ; vide pour le plafond du programme
manager-preview = Voir ce qu'il paierait
manager-preview-title = { $programme }, { $period } : ce que le cycle paierait
manager-preview-over = Le cycle dépasse son plafond de { $over }. Baissez les montants ou relevez le plafond.
manager-prepare = Préparer le cycle
manager-cycle-computing = en calcul
manager-cycle-computed = en attente d'approbation
manager-cycle-approved = approuvé
manager-cycle-cancelled = annulé
manager-skip-not-scored = Écartés : ménage sans indice
manager-skip-not-current = Écartés : indice plus ancien que la dernière modification du ménage
manager-skip-no-amount = Écartés : rien à payer
manager-skip-not-eligible = Écartés : plus éligibles
manager-skip-condition = Écartés : { $reason }
manager-cycle-title = Cycle n° { $id }
manager-rules-on = règles et montants du { $date }
manager-no-cap = pas de plafond
manager-approve-title = Approuver
manager-approve-own = Vous avez préparé ce cycle : un autre gestionnaire doit l'approuver.
manager-approve = Approuver le cycle
manager-cancel-title = Annuler
manager-cancel = Annuler le cycle
manager-open-batches = Faire les lots de paiement
manager-open-batches-hint = un lot par moyen de paiement
manager-batches-title = Lots de paiement
manager-batches-none = Aucun lot pour l'instant.
manager-progress-paid = { $n ->
    [one] { $count } payé
   *[other] { $count } payés
}
manager-progress-failed = { $n ->
    [one] { $count } en échec
   *[other] { $count } en échec
}
manager-progress-sent = { $n ->
    [one] { $count } en attente de réponse
   *[other] { $count } en attente de réponse
}
manager-progress-uncounted = trop de paiements pour les compter ici
manager-file-format = Format du fichier
manager-format-pain001 = ISO 20022 (pain.001)
manager-format-csv = CSV
manager-download-again = Télécharger à nouveau
manager-export = Faire le fichier
manager-reconcile-title = La réponse du prestataire
manager-reconcile-intro = Envoyez le fichier renvoyé par la banque ou le prestataire (camt.054 ou CSV). Chaque ligne est vérifiée avant toute écriture.
manager-reconcile-nothing = Rien n'a été modifié.
manager-reconcile-already = Le fichier { $file } a déjà été lu. Rien n'a été refait.
manager-reconcile-done = { $n ->
    [one] Le fichier { $file } a été lu : { $count } ligne.
   *[other] Le fichier { $file } a été lu : { $count } lignes.
}
manager-outcome-paid = Payés
manager-outcome-failed = En échec
manager-outcome-reversed = Retournés
manager-outcome-unchanged = Déjà connus
manager-reconcile-file = Fichier de réponse
manager-reconcile-file-hint = camt.054 (XML) ou CSV
manager-reconcile = Lire la réponse
manager-reconcile-empty = Choisissez d'abord un fichier : le formulaire est arrivé sans fichier.
manager-back-cycles = Retour aux cycles
manager-means-bank = virement bancaire
manager-means-wallet = portefeuille mobile
manager-means-cash = espèces en agence
manager-batch-open = prêt
manager-batch-exported = fichier fait
