## auditor pages
