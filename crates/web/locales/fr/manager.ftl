## manager pages
