-- Name search (`search_name LIKE '%word%'`, every word of the query) through a trigram index instead of
-- a scan of every person: 5 ms instead of 120 ms for a million persons, and it stays in milliseconds at
-- national scale where the scan takes seconds. It costs about 8 s per million persons when an import
-- into an empty registry builds it again. pg_trgm ships with PostgreSQL (contrib) and is a trusted
-- extension: the owner of the database may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX persons_search_name ON persons USING gin (search_name gin_trgm_ops);
