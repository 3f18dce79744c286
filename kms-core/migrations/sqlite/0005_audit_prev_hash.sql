-- Audit records without a stored `prev_hash` (version 5). A record's
-- previous hash is, by the chain's definition, the hash of the record one
-- `seq` before it (32 zero bytes before the first), so storing it again
-- with every record doubled the hash bytes per record: 32 of about 85
-- bytes of each row, in the table that every key use appends to. The view
-- now reads it from the previous row, so readers, verification and the
-- chain itself see exactly what they saw before.
--
-- Tampering is caught as before: a record's hash covers the hash before
-- it, so changing any record's fields or hash breaks the recomputed hash
-- of that record or of the next one, up to the authenticated head. A
-- record with no row before it shows the genesis hash (32 zero bytes) as
-- its previous hash, which no record after the first can follow: a
-- deleted record reads as a broken link at the record after it, as it did
-- when the previous hash was stored.
--
-- Dropping the column rewrites `audit_entries` once, in this migration's
-- transaction: an install with a long audit log takes that long to start
-- the first time.
--
-- Single inserts through the view must name the previous hash they were
-- linked to, and are refused if it is not the previous row's; an update
-- cannot change `prev_hash`, since it is no longer stored.

DROP TRIGGER audit_log_insert;
DROP TRIGGER audit_log_update;
DROP TRIGGER audit_log_delete;
DROP VIEW audit_log;

ALTER TABLE audit_entries DROP COLUMN prev_hash;

CREATE VIEW audit_log AS
SELECT e.seq AS seq, e.time_us AS time_us, ac.name AS actor, an.name AS action,
       o.name AS object, p.name AS project, r.name AS result, s.name AS source,
       COALESCE((SELECT b.hash FROM audit_entries b WHERE b.seq = e.seq - 1),
                zeroblob(32)) AS prev_hash,
       e.hash AS hash
FROM audit_entries e
LEFT JOIN audit_names ac ON ac.id = e.actor
LEFT JOIN audit_names an ON an.id = e.action
LEFT JOIN audit_names o ON o.id = e.object
LEFT JOIN audit_names p ON p.id = e.project
LEFT JOIN audit_names r ON r.id = e.result
LEFT JOIN audit_names s ON s.id = e.source;

CREATE TRIGGER audit_log_insert INSTEAD OF INSERT ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log.prev_hash is not the previous record''s hash')
    WHERE NEW.prev_hash IS NOT (
        CASE WHEN NEW.seq = 1 THEN zeroblob(32)
             ELSE (SELECT hash FROM audit_entries WHERE seq = NEW.seq - 1) END);
    INSERT OR IGNORE INTO audit_names (name)
        VALUES (NEW.actor), (NEW.action), (NEW.object), (NEW.project), (NEW.result), (NEW.source);
    INSERT INTO audit_entries
        (seq, time_us, actor, action, object, project, result, source, hash)
    VALUES (NEW.seq, NEW.time_us,
        (SELECT id FROM audit_names WHERE name = NEW.actor),
        (SELECT id FROM audit_names WHERE name = NEW.action),
        (SELECT id FROM audit_names WHERE name = NEW.object),
        (SELECT id FROM audit_names WHERE name = NEW.project),
        (SELECT id FROM audit_names WHERE name = NEW.result),
        (SELECT id FROM audit_names WHERE name = NEW.source),
        NEW.hash);
END;

CREATE TRIGGER audit_log_update INSTEAD OF UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log.prev_hash is derived from the previous record')
    WHERE NEW.prev_hash IS NOT OLD.prev_hash;
    INSERT OR IGNORE INTO audit_names (name)
        VALUES (NEW.actor), (NEW.action), (NEW.object), (NEW.project), (NEW.result), (NEW.source);
    UPDATE audit_entries SET
        seq = NEW.seq,
        time_us = NEW.time_us,
        actor = (SELECT id FROM audit_names WHERE name = NEW.actor),
        action = (SELECT id FROM audit_names WHERE name = NEW.action),
        object = (SELECT id FROM audit_names WHERE name = NEW.object),
        project = (SELECT id FROM audit_names WHERE name = NEW.project),
        result = (SELECT id FROM audit_names WHERE name = NEW.result),
        source = (SELECT id FROM audit_names WHERE name = NEW.source),
        hash = NEW.hash
    WHERE seq = OLD.seq;
END;

CREATE TRIGGER audit_log_delete INSTEAD OF DELETE ON audit_log
BEGIN
    DELETE FROM audit_entries WHERE seq = OLD.seq;
END;
