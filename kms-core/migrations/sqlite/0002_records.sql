-- Front-end records (version 2): small JSON documents that the front ends
-- keep next to the keys (the KMIP client registry, the KMIP CA's state, the
-- HTTPS API's identities). Never secrets. Each row carries a MAC over every
-- column, keyed from the project key version it names, so an edited, moved
-- or relabelled row fails authentication before it is used.

CREATE TABLE records (
    project     BLOB    NOT NULL REFERENCES projects (id),
    kind        TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    value       BLOB    NOT NULL,
    kek_version INTEGER NOT NULL,
    mac         BLOB    NOT NULL,
    PRIMARY KEY (project, kind, key)
);
