-- Audit records without a stored `prev_hash` (version 4), as SQLite's
-- migration 0005: a record's previous hash is, by the chain's definition,
-- the hash of the record one `seq` before it (32 zero bytes before the
-- first), so it is read from there instead of being stored a second time
-- with every record. Readers, verification and the chain see exactly what
-- they saw before; a record with no row before it shows the genesis hash,
-- so a deleted record still reads as a broken link at the record after it.
--
-- PostgreSQL drops a column without rewriting the table: rows written
-- before keep their bytes until the table is rewritten (VACUUM FULL);
-- rows written after are smaller.
--
-- `audit_log` becomes a view over `audit_entries`. It stays automatically
-- updatable for every column but `prev_hash`, which cannot be written.

ALTER TABLE audit_log RENAME TO audit_entries;
ALTER INDEX audit_log_project_seq RENAME TO audit_entries_project_seq;
ALTER INDEX audit_log_project_object_seq RENAME TO audit_entries_project_object_seq;
ALTER TABLE audit_entries DROP COLUMN prev_hash;

CREATE VIEW audit_log AS
SELECT e.seq, e.time_us, e.actor, e.action, e.object, e.project, e.result, e.source,
       COALESCE((SELECT b.hash FROM audit_entries b WHERE b.seq = e.seq - 1),
                decode(repeat('00', 32), 'hex')) AS prev_hash,
       e.hash
FROM audit_entries e;
