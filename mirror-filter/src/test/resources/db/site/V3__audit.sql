-- Release 3: a table of its own and a rename.
CREATE TABLE audit (id bigserial PRIMARY KEY, note text NOT NULL);
ALTER TABLE tags RENAME COLUMN tag TO label;
