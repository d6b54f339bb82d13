-- Release 2: a column with a default, an index, a new table with a foreign key.
ALTER TABLE items ADD COLUMN price numeric(10,2) NOT NULL DEFAULT 0;
CREATE INDEX items_name ON items (name);
CREATE TABLE tags (id bigserial PRIMARY KEY, item_id bigint NOT NULL REFERENCES items (id), tag text NOT NULL);
