-- Strongroom storage schema, version 1 (PostgreSQL).
--
-- Identifiers are 16-byte BYTEA (UUID bytes), like the SQLite schema, so the
-- two backends share their row decoding. Unsigned 32-bit numbers are BIGINT
-- (INTEGER is signed 32-bit). The store decodes every column defensively: a
-- row that does not fit the record types is reported as corrupt.

CREATE TABLE organizations (
    id          BYTEA  NOT NULL PRIMARY KEY,
    name        TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE projects (
    id           BYTEA  NOT NULL PRIMARY KEY,
    organization BYTEA  NOT NULL REFERENCES organizations (id),
    name         TEXT   NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX projects_organization ON projects (organization);

CREATE TABLE project_keys (
    project     BYTEA  NOT NULL REFERENCES projects (id),
    version     BIGINT NOT NULL,
    root_term   BIGINT NOT NULL,
    wrapped     BYTEA  NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (project, version)
);
CREATE INDEX project_keys_root_term ON project_keys (root_term);

CREATE TABLE objects (
    id                BYTEA  NOT NULL PRIMARY KEY,
    project           BYTEA  NOT NULL REFERENCES projects (id),
    revision          BIGINT NOT NULL,
    object_type       BIGINT NOT NULL,
    name              TEXT,
    algorithm         BIGINT,
    state             BIGINT NOT NULL,
    initial_date      BIGINT NOT NULL,
    activation_date   BIGINT,
    deactivation_date BIGINT,
    destroy_date      BIGINT,
    last_change_date  BIGINT NOT NULL,
    attributes        BYTEA  NOT NULL,
    material          BYTEA,
    kek_version       BIGINT NOT NULL,
    mac               BYTEA  NOT NULL
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
    seq        BIGINT NOT NULL PRIMARY KEY,
    time_us    BIGINT NOT NULL,
    actor      TEXT   NOT NULL,
    action     TEXT   NOT NULL,
    object     TEXT,
    project    TEXT,
    result     TEXT   NOT NULL,
    source     TEXT,
    prev_hash  BYTEA  NOT NULL,
    hash       BYTEA  NOT NULL
);

-- The authenticated end of the audit chain. Exactly one row, so that
-- `SELECT ... FOR UPDATE` on it serializes every writer, on every node,
-- from the very first commit. seq 0 means "no record yet".
CREATE TABLE audit_head (
    id    INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    seq   BIGINT  NOT NULL,
    hash  BYTEA   NOT NULL,
    mac   BYTEA   NOT NULL
);
INSERT INTO audit_head (id, seq, hash, mac)
VALUES (1, 0, decode(repeat('00', 32), 'hex'), ''::bytea);
