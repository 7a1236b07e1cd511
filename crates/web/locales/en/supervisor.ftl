## supervisor pages
supervisor-regions-title = Households and persons per region
supervisor-region = Region
supervisor-households = Households
supervisor-persons = Persons
supervisor-total = Total
