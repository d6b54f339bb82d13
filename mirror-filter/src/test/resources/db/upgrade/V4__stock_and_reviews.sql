-- Release 4, rolled out while the site writes on every mirror: a column with a default, an index, a new table.
ALTER TABLE items ADD COLUMN stock int NOT NULL DEFAULT 5;
CREATE INDEX items_added ON items (added);
CREATE TABLE reviews (id bigserial PRIMARY KEY, item_id bigint NOT NULL REFERENCES items (id), stars int NOT NULL);
