-- The ledger is indexed by time alone. Its per-consumer and per-key indexes put each
-- event's entries on a page of its own consumer and key, so a batch of a thousand events
-- dirtied hundreds of index pages (half of SQLite's ingest time); a time index only grows
-- at its end. Counts that read the ledger (partial minutes at the edges of billing and
-- quota periods, reconciliation, unique counts) scan a time range and filter.
DROP INDEX usage_events_consumer_time;
DROP INDEX usage_events_key_time;
CREATE INDEX usage_events_time ON usage_events (time_ms);
