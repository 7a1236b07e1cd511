# Messages qu'un citoyen ou un agent lit sur une décision, en mots simples.

## Quand un ménage est éligible
programme-eligible = Vous pouvez en bénéficier.

## Pourquoi un ménage n'est pas éligible
index-above-threshold = L'indice de votre ménage est au-dessus du seuil du programme.
household-not-scored = Votre ménage n'a pas encore d'indice : l'éligibilité ne peut pas être décidée.
programme-not-active = Le programme n'est pas ouvert à cette date.
rule-evaluation-error = Les règles du programme n'ont pas pu être vérifiées pour votre ménage ; un agent va s'en occuper.
asd-no-child-no-elderly = Le ménage n'a pas d'enfant de moins de 21 ans, et ses membres n'ont pas tous 60 ans ou plus.
no-school-age-child = Aucun enfant d'âge scolaire dans le ménage.
school-child-not-enrolled = Un enfant d'âge scolaire du ménage n'est pas scolarisé.
no-disabled-member = Aucun membre du ménage n'a de handicap enregistré.

## Comment le montant a été calculé
benefit-line-floor = Complément jusqu'au montant minimum par ménage
asd-line-child = Allocation familiale pour un enfant
asd-line-elderly = Aide forfaitaire pour un ménage de personnes âgées
school-line-child = Aide à la scolarité pour un enfant scolarisé
disability-line-member = Allocation pour un membre en situation de handicap

## Signalements pour l'agent
flag-drop-out = Un enfant d'âge scolaire a quitté l'école.

## Inscription
enrolment-eligible = Le ménage est éligible.
enrolment-eligible-again = Le ménage est de nouveau éligible.
enrolment-enrolled = Le ménage est inscrit au programme.
enrolment-suspended = L'inscription est suspendue.
enrolment-resumed = L'inscription est de nouveau active.
enrolment-no-longer-eligible = Le ménage n'est plus éligible.

## Nombres
children-count = { $count ->
    [one] un enfant
   *[other] { $count } enfants
}
