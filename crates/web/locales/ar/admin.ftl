## admin pages
