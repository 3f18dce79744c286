-- Compact audit records (version 4). Records name the same few actors,
-- actions, keys, projects, results and addresses over and over; every key
-- use appends one. Each distinct string is now stored once, in
-- `audit_names`, and a record (`audit_entries`) holds their integer ids:
-- about a third of the bytes per record, in the table and in both indexes,
-- which is most of what appending a record costs.
--
-- `audit_log` becomes a view with exactly the old columns, so readers, the
-- hash chain (computed over the strings, not the ids) and anything that
-- writes through the view see no difference. The writer's bulk path inserts
-- into `audit_entries` directly; the triggers keep single inserts, and
-- edits made by hand, working through the view.
--
-- Every join in the view is a LEFT JOIN: a record whose name went missing
-- shows a NULL where text was, which the store reports as corrupt, rather
-- than vanishing from the chain.

CREATE TABLE audit_names (
    id    INTEGER NOT NULL PRIMARY KEY,
    name  TEXT    NOT NULL UNIQUE
);

CREATE TABLE audit_entries (
    seq        INTEGER NOT NULL PRIMARY KEY,
    time_us    INTEGER NOT NULL,
    actor      INTEGER NOT NULL,
    action     INTEGER NOT NULL,
    object     INTEGER,
    project    INTEGER,
    result     INTEGER NOT NULL,
    source     INTEGER,
    prev_hash  BLOB    NOT NULL,
    hash       BLOB    NOT NULL
);

INSERT INTO audit_names (name)
    SELECT actor FROM audit_log
    UNION SELECT action FROM audit_log
    UNION SELECT object FROM audit_log WHERE object IS NOT NULL
    UNION SELECT project FROM audit_log WHERE project IS NOT NULL
    UNION SELECT result FROM audit_log
    UNION SELECT source FROM audit_log WHERE source IS NOT NULL;

INSERT INTO audit_entries
    (seq, time_us, actor, action, object, project, result, source, prev_hash, hash)
SELECT a.seq, a.time_us,
       (SELECT id FROM audit_names WHERE name = a.actor),
       (SELECT id FROM audit_names WHERE name = a.action),
       (SELECT id FROM audit_names WHERE name = a.object),
       (SELECT id FROM audit_names WHERE name = a.project),
       (SELECT id FROM audit_names WHERE name = a.result),
       (SELECT id FROM audit_names WHERE name = a.source),
       a.prev_hash, a.hash
FROM audit_log a;

DROP TABLE audit_log;

CREATE INDEX audit_entries_project_seq ON audit_entries (project, seq);
CREATE INDEX audit_entries_project_object_seq ON audit_entries (project, object, seq);

CREATE VIEW audit_log AS
SELECT e.seq AS seq, e.time_us AS time_us, ac.name AS actor, an.name AS action,
       o.name AS object, p.name AS project, r.name AS result, s.name AS source,
       e.prev_hash AS prev_hash, e.hash AS hash
FROM audit_entries e
LEFT JOIN audit_names ac ON ac.id = e.actor
LEFT JOIN audit_names an ON an.id = e.action
LEFT JOIN audit_names o ON o.id = e.object
LEFT JOIN audit_names p ON p.id = e.project
LEFT JOIN audit_names r ON r.id = e.result
LEFT JOIN audit_names s ON s.id = e.source;

CREATE TRIGGER audit_log_insert INSTEAD OF INSERT ON audit_log
BEGIN
    INSERT OR IGNORE INTO audit_names (name)
        VALUES (NEW.actor), (NEW.action), (NEW.object), (NEW.project), (NEW.result), (NEW.source);
    INSERT INTO audit_entries
        (seq, time_us, actor, action, object, project, result, source, prev_hash, hash)
    VALUES (NEW.seq, NEW.time_us,
        (SELECT id FROM audit_names WHERE name = NEW.actor),
        (SELECT id FROM audit_names WHERE name = NEW.action),
        (SELECT id FROM audit_names WHERE name = NEW.object),
        (SELECT id FROM audit_names WHERE name = NEW.project),
        (SELECT id FROM audit_names WHERE name = NEW.result),
        (SELECT id FROM audit_names WHERE name = NEW.source),
        NEW.prev_hash, NEW.hash);
END;

CREATE TRIGGER audit_log_update INSTEAD OF UPDATE ON audit_log
BEGIN
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
        prev_hash = NEW.prev_hash,
        hash = NEW.hash
    WHERE seq = OLD.seq;
END;

CREATE TRIGGER audit_log_delete INSTEAD OF DELETE ON audit_log
BEGIN
    DELETE FROM audit_entries WHERE seq = OLD.seq;
END;
