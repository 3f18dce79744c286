-- Strongroom storage schema, version 1 (SQLite).
--
-- Identifiers are 16-byte BLOBs (UUID bytes). Unsigned 32-bit numbers and
-- Unix times are INTEGERs (64-bit in SQLite). The store decodes every column
-- defensively: a row that does not fit the record types is reported as
-- corrupt, never trusted.

CREATE TABLE organizations (
    id          BLOB    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE projects (
    id           BLOB    NOT NULL PRIMARY KEY,
    organization BLOB    NOT NULL REFERENCES organizations (id),
    name         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX projects_organization ON projects (organization);

CREATE TABLE project_keys (
    project     BLOB    NOT NULL REFERENCES projects (id),
    version     INTEGER NOT NULL,
    root_term   INTEGER NOT NULL,
    wrapped     BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (project, version)
);
CREATE INDEX project_keys_root_term ON project_keys (root_term);

CREATE TABLE objects (
    id                BLOB    NOT NULL PRIMARY KEY,
    project           BLOB    NOT NULL REFERENCES projects (id),
    revision          INTEGER NOT NULL,
    object_type       INTEGER NOT NULL,
    name              TEXT,
    algorithm         INTEGER,
    state             INTEGER NOT NULL,
    initial_date      INTEGER NOT NULL,
    activation_date   INTEGER,
    deactivation_date INTEGER,
    destroy_date      INTEGER,
    last_change_date  INTEGER NOT NULL,
    attributes        BLOB    NOT NULL,
    material          BLOB,
    kek_version       INTEGER NOT NULL,
    mac               BLOB    NOT NULL
);
-- Listing a project's objects in (initial_date, id) order.
CREATE INDEX objects_project_initial ON objects (project, initial_date, id);
CREATE INDEX objects_project_name ON objects (project, name);
CREATE INDEX objects_object_type ON objects (object_type);
CREATE INDEX objects_algorithm ON objects (algorithm);
CREATE INDEX objects_state ON objects (state);
CREATE INDEX objects_initial_date ON objects (initial_date, id);
-- The date-driven lifecycle sweep ("activation date <= now"). Partial:
-- objects without the date never match such a query, and a create that sets
-- no date then writes two index pages fewer.
CREATE INDEX objects_activation_date ON objects (activation_date)
    WHERE activation_date IS NOT NULL;
CREATE INDEX objects_deactivation_date ON objects (deactivation_date)
    WHERE deactivation_date IS NOT NULL;

CREATE TABLE audit_log (
    seq        INTEGER NOT NULL PRIMARY KEY,
    time_us    INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    object     TEXT,
    project    TEXT,
    result     TEXT    NOT NULL,
    source     TEXT,
    prev_hash  BLOB    NOT NULL,
    hash       BLOB    NOT NULL
);

-- The authenticated end of the audit chain. Exactly one row; seq 0 means
-- "no record yet" (the store reports no head).
CREATE TABLE audit_head (
    id    INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    seq   INTEGER NOT NULL,
    hash  BLOB    NOT NULL,
    mac   BLOB    NOT NULL
);
INSERT INTO audit_head (id, seq, hash, mac)
VALUES (1, 0, zeroblob(32), X'');
