## agent pages
