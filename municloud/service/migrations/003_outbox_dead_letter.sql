-- A message the hub refuses with a Fault (4xx: unauthorised route, schema, signature) will not
-- succeed on retry: it is set aside (dead_at) for an operator instead of being retried forever.
ALTER TABLE outbox ADD COLUMN dead_at timestamptz;
DROP INDEX outbox_pending;
CREATE INDEX outbox_pending ON outbox (id) WHERE sent_at IS NULL AND dead_at IS NULL;
