-- Project-scoped audit queries (version 3): the HTTPS API lists one
-- project's audit records newest first, optionally for one object (a key id)
-- only. Without these indexes every such query scans the whole chain.
-- The chain itself is unchanged: indexes are not part of any record's hash.
--
-- Plain CREATE INDEX (not CONCURRENTLY): migrations run in a transaction,
-- and the build blocks audit inserts — so every write — for as long as it
-- takes. On a very large existing log, create these two indexes
-- CONCURRENTLY by hand before upgrading; IF NOT EXISTS then makes this a
-- no-op.

CREATE INDEX IF NOT EXISTS audit_log_project_seq ON audit_log (project, seq);
CREATE INDEX IF NOT EXISTS audit_log_project_object_seq ON audit_log (project, object, seq);
