## supervisor pages
supervisor-regions-title = Ménages et personnes par région
supervisor-region = Région
supervisor-households = Ménages
supervisor-persons = Personnes
supervisor-total = Total
