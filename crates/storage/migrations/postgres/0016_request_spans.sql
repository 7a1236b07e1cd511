-- The bottleneck report reads every step visit of a region's requests: with these two indexes it
-- can find the requests and their visits in the indexes alone (index-only scans once the table
-- is vacuumed), without a look-up into either table per request and per visit.
CREATE INDEX service_requests_region_spans ON service_requests (region_code, id) INCLUDE (kind, centre, commune_code);
CREATE INDEX request_steps_spans ON request_steps (request_id) INCLUDE (step, entered_at, due_at, left_at);
