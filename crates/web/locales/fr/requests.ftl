## Demandes et réclamations : la liste du citoyen, les formulaires, la page d'une demande, la file
## d'attente, le suivi public et le rapport des délais.

nav-my-requests = Mes demandes
nav-requests = Demandes
nav-delays = Délais

done-request-moved = C'est fait. La demande a avancé.
done-request-reopened = Votre réclamation est rouverte. Elle sera examinée à nouveau.
done-request-rated = Merci pour votre avis.

requests-mine-title = Mes demandes et réclamations
requests-mine-intro = Vous voyez ici toutes les demandes de votre ménage et où elles en sont.
requests-household-title = Demandes du ménage { $id }
requests-household-intro = Les demandes de ce ménage. Vous pouvez en déposer une nouvelle pour le citoyen, avec son accord.
requests-offers-title = Faire une demande
requests-offer-programme_application = Demander un programme
requests-offer-disability_card = Demander la carte de handicap
requests-offer-registration_attestation = Demander une attestation d'inscription
requests-offer-household_change = Déclarer un changement dans le ménage
requests-offer-complaint = Réclamer ou suggérer
requests-list-title = Vos demandes
requests-none = Aucune demande pour l'instant.
requests-follow-link = Suivre une demande avec sa référence et son code
requests-overdue = En retard
requests-due = À traiter avant le { $date }
requests-submitted-on = Envoyée le { $date }
requests-steps-left = { $n ->
    [one] Environ { $count } étape restante
   *[other] Environ { $count } étapes restantes
}
requests-state-open = En cours

requests-outcome-approved = Acceptée
requests-outcome-issued = Délivrée
requests-outcome-resolved = Répondue
requests-outcome-rejected = Refusée
requests-outcome-withdrawn = Retirée
requests-outcome-closed = Classée

requests-grievance-complaint = Une réclamation
requests-grievance-suggestion = Une suggestion
requests-grievance-observation = Une observation
requests-grievance-what = Est-ce une réclamation, une suggestion ou une observation ?
requests-category = De quoi s'agit-il ?
requests-category-choose = Choisissez un sujet
requests-which-programme = À quel programme demandez-vous à participer ?
requests-assisted-title = { $service }, pour le ménage { $id }
requests-details-legend = Votre demande
requests-details = Ce que vous demandez, en quelques mots
requests-details-hint = Écrivez-le comme vous le diriez. N'écrivez ni mot de passe ni numéro de carte bancaire.
requests-documents = Pièces
requests-documents-asked = Pièces demandées :
requests-documents-none-asked = Aucune pièce n'est exigée. Vous pouvez en joindre une si elle aide.
requests-documents-hint = { $n ->
    [one] Au plus { $count } fichier, PDF, JPEG ou PNG, 900 Ko chacun.
   *[other] Au plus { $count } fichiers, PDF, JPEG ou PNG, 900 Ko chacun.
}
requests-channel = Comment le citoyen a demandé
requests-channel-centre = Au centre
requests-channel-phone = Par téléphone
requests-channel-web = En ligne
requests-send = Envoyer la demande

requests-error-too-many-documents = { $n ->
    [one] Envoyez au plus { $count } fichier.
   *[other] Envoyez au plus { $count } fichiers.
}
requests-error-documents-required = Joignez les pièces demandées.
requests-error-documents-too_many = Envoyez au plus 3 fichiers.
requests-error-details-required = Écrivez ce qui s'est passé, en quelques mots.
requests-error-details-too_long = Ce texte est trop long (4 000 caractères au plus).
requests-error-programme-unknown_programme = Choisissez le programme demandé.
requests-error-category-unknown_category = Choisissez le sujet de la réclamation.
requests-error-grievance-unknown = Choisissez réclamation, suggestion ou observation.
requests-error-consent-required = L'accord du citoyen est nécessaire pour déposer la demande à sa place.
requests-error-reason-required = Écrivez le motif : le citoyen le lira.
requests-error-rating-range = Choisissez une note de 1 à 5.
requests-error-comment-too_long = Ce commentaire est trop long (1 000 caractères au plus).

requests-submitted-title = Votre demande est envoyée
requests-submitted-text = Votre demande ({ $service }) est bien reçue. Gardez la référence et le code ci-dessous : ils servent à suivre votre demande, même sans vous connecter.
requests-reference = Référence
requests-secret = Code de suivi
requests-secret-once = Le code n'est affiché qu'une fois. Notez-le ou prenez cet écran en photo.
requests-see-it = Voir ma demande

requests-detail-title = { $service } — { $reference }
requests-back = Retour à la liste
requests-where-it-stands = Où en est-elle
requests-service = Service
requests-about = Objet
requests-step = Étape
requests-state = État
requests-deadline = Délai
requests-progress = Avancement
requests-submitted = Envoyée le
requests-closed = Close le
requests-updated = Dernier changement
requests-centre = Traitée par
requests-escalated = En retard, transmise à
requests-see-household = Voir le ménage
requests-answer = La réponse
requests-actions-title = Ce que vous pouvez faire maintenant
requests-reason-required = Motif (obligatoire, le citoyen le lira)
requests-reason-optional = Commentaire (facultatif)
requests-reopen-title = La réponse ne règle pas le problème ?
requests-reopen-reason = Dites pourquoi
requests-reopen = Rouvrir la réclamation
requests-rate-title = Donnez votre avis
requests-rate-legend = Êtes-vous satisfait de ce service ?
requests-rate-mark = { $n ->
    [one] { $count } sur 5 — très mécontent
    [2] { $count } sur 5 — mécontent
    [3] { $count } sur 5 — moyen
    [4] { $count } sur 5 — content
   *[other] { $count } sur 5 — très content
}
requests-rate-comment = Commentaire (facultatif)
requests-rate-send = Envoyer mon avis
requests-rated = Vous avez donné { $count } sur 5 à ce service. Merci.
requests-documents-given = Pièces jointes
requests-kilobytes = { $count } Ko
requests-timeline = Ce qui s'est passé
requests-filed-assisted = Déposée au centre pour le citoyen, avec son accord.
requests-here-now = Elle est ici
requests-stayed = Restée { $time }
requests-waiting-since = En attente depuis { $time }
requests-conflict-title = Quelqu'un d'autre a fait avancer cette demande
requests-conflict-text = Elle a bougé pendant que vous la lisiez. Voici où elle en est ; vérifiez avant d'agir.

requests-days = { $n ->
    [one] { $count } jour
   *[other] { $count } jours
}
requests-hours = { $n ->
    [one] { $count } heure
   *[other] { $count } heures
}
requests-minutes = { $n ->
    [one] { $count } minute
   *[other] { $count } minutes
}

requests-action-submit = Envoyer
requests-action-withdraw = Retirer la demande
requests-action-documents_complete = Les pièces sont complètes
requests-action-ask_for_documents = Demander des pièces
requests-action-opinion_given = La commission a donné son avis
requests-action-grant = Accorder la carte
requests-action-refuse = Refuser
requests-action-reject = Refuser
requests-action-approve = Accepter
requests-action-confirm = Confirmer
requests-action-visit_needed = Une visite à domicile est nécessaire
requests-action-no_visit_needed = Pas besoin de visite
requests-action-visit_confirms = La visite confirme le changement
requests-action-visit_contradicts = La visite contredit le changement
requests-action-apply_update = Appliquer le changement au ménage
requests-action-route_to_unit = Transmettre au service compétent
requests-action-close = Classer sans suite
requests-action-assign = Prendre en charge
requests-action-send_back = Renvoyer à l'accueil
requests-action-propose_answer = Proposer une réponse
requests-action-send_answer = Envoyer la réponse
requests-action-rework = Reprendre la réponse
requests-action-reopen = Rouverte par le citoyen

requests-unit-registry_unit = Service du registre
requests-unit-targeting_unit = Service du ciblage
requests-unit-payments_unit = Service des paiements
requests-unit-health_insurance_unit = Service de l'assurance maladie
requests-unit-disability_unit = Service du handicap
requests-unit-citizen_relations = Relations avec les citoyens
requests-unit-inspection_unit = Inspection

doc-national-id = la carte nationale d'identité
doc-medical-certificate = un certificat médical
doc-photo = une photo récente
doc-medical-report = le rapport de la commission médicale
doc-household-composition = une preuve des membres du ménage
doc-change-proof = une preuve du changement
doc-visit-report = le rapport de la visite à domicile

requests-queue-title = Demandes à traiter
requests-queue-intro = Les demandes qui vous attendent dans votre territoire, les plus urgentes d'abord.
requests-queue-overdue = { $n ->
    [one] { $count } demande est en retard.
   *[other] { $count } demandes sont en retard.
}
requests-all-services = Tous les services
requests-filter = Afficher

requests-follow-title = Suivre une demande
requests-follow-intro = Tapez la référence et le code reçus à l'envoi de votre demande. Aucun compte n'est nécessaire.
requests-reference-hint = Par exemple SR-2026-0000123-4
requests-secret-hint = Les 6 caractères donnés avec la référence
requests-follow-send = Voir où elle en est
requests-follow-not-found = Aucune demande ne correspond à cette référence et à ce code. Vérifiez les deux et réessayez.

requests-delays-title = Délais et points de blocage
requests-delays-intro = Combien de temps prend chaque étape, où les demandes attendent, et ce que les citoyens pensent du service.
requests-territory = Territoire
requests-territory-hint = Un code de région, de province ou de commune ; vide pour tous les vôtres
requests-waiting-most = { $n ->
    [one] La plupart des demandes attendent à : { $step } ({ $count })
   *[other] La plupart des demandes attendent à : { $step } ({ $count })
}
requests-delays-none-waiting = Aucune demande n'attend en ce moment.
requests-delays-steps = Temps par étape
requests-delays-centres = Temps par centre
requests-delays-territories = Temps par territoire
requests-delays-empty = Rien à montrer pour l'instant.
requests-ratings-title = Satisfaction des citoyens
requests-ratings-none = Aucun avis pour l'instant.
requests-out-of-five = { $mark } sur 5
requests-col-service = Service
requests-col-step = Étape
requests-col-centre = Centre
requests-col-territory = Territoire
requests-col-finished = Terminées
requests-col-median = Durée habituelle (médiane)
requests-col-p90 = 9 sur 10 en moins de
requests-col-open = En attente
requests-col-waiting = Attente habituelle
requests-col-breaches = En retard
requests-col-median-seconds = Médiane (secondes)
requests-col-p90-seconds = 90e centile (secondes)
requests-col-waiting-seconds = Attente médiane (secondes)
requests-col-average = Note moyenne
requests-col-ratings = Avis
