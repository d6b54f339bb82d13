-- Release 1 of a site: its items and a seed row.
CREATE TABLE items (id bigserial PRIMARY KEY, name text NOT NULL, added timestamptz NOT NULL DEFAULT '2026-01-01T00:00:00Z');
INSERT INTO items (name) VALUES ('first item');
