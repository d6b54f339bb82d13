package org.activemirroring.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.SQLException;

import org.activemirroring.db.SchemaCopy.ValidationFailure;
import org.junit.jupiter.api.Test;

class PostgresSchemaCopyTest {
    private static final PostgresSchemaCopy SCHEMA = new PostgresSchemaCopy();

    @Test
    void aTablesOwnKeysAndIndexesStartWithItsRowsAndNothingElseDoes() {
        String t = "public.comments";
        assertTrue(SCHEMA.buildsFromItsTable("ALTER TABLE public.comments ADD CONSTRAINT comments_pkey PRIMARY KEY (id)", t));
        assertTrue(SCHEMA.buildsFromItsTable("CREATE INDEX comments_post ON public.comments USING btree (post_id)", t));
        assertTrue(SCHEMA.buildsFromItsTable("CREATE UNIQUE INDEX c_u ON ONLY public.comments USING btree (a, b)", t));
        // another table, even one whose name starts the same
        assertFalse(SCHEMA.buildsFromItsTable("ALTER TABLE public.comments_archive ADD CONSTRAINT x PRIMARY KEY (id)", t));
        assertFalse(SCHEMA.buildsFromItsTable("CREATE INDEX p ON public.posts USING btree (user_id)", t));
        // foreign keys need the referenced table's key: they wait for every table
        assertFalse(SCHEMA.buildsFromItsTable("ALTER TABLE public.comments ADD CONSTRAINT f FOREIGN KEY (post_id)"
                + " REFERENCES public.posts(id) NOT VALID", t));
        assertFalse(SCHEMA.buildsFromItsTable("ALTER TABLE public.comments VALIDATE CONSTRAINT f", t));
        // quoted names as quote_ident writes them
        assertTrue(SCHEMA.buildsFromItsTable("CREATE INDEX i ON \"Shop\".\"order\" USING btree (id)", "\"Shop\".\"order\""));
        assertFalse(SCHEMA.buildsFromItsTable("CREATE INDEX i ON \"Shop\".\"order\" USING btree (id)", "shop.\"order\""));
    }

    @Test
    void aValidationWhoseConstraintIsGoneIsDoneAViolationStaysAndTheRestIsTriedAgain() {
        assertEquals(ValidationFailure.GONE, SCHEMA.validationFailure(new SQLException("no constraint", "42704")));
        assertEquals(ValidationFailure.GONE, SCHEMA.validationFailure(new SQLException("no table", "42P01")));
        assertEquals(ValidationFailure.VIOLATED, SCHEMA.validationFailure(new SQLException("violates", "23503")));
        assertEquals(ValidationFailure.OTHER, SCHEMA.validationFailure(new SQLException("connection lost", "08006")));
        assertEquals(ValidationFailure.OTHER, SCHEMA.validationFailure(new SQLException("no state")));
    }
}
