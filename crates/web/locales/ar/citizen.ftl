## citizen pages
