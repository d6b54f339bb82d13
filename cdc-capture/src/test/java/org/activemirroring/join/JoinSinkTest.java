package org.activemirroring.join;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class JoinSinkTest {
    @Test
    void aTablesOwnKeysAndIndexesStartWithItsRowsAndNothingElseDoes() {
        String t = "public.comments";
        assertTrue(JoinSink.ownKeyOrIndex("ALTER TABLE public.comments ADD CONSTRAINT comments_pkey PRIMARY KEY (id)", t));
        assertTrue(JoinSink.ownKeyOrIndex("CREATE INDEX comments_post ON public.comments USING btree (post_id)", t));
        assertTrue(JoinSink.ownKeyOrIndex("CREATE UNIQUE INDEX c_u ON ONLY public.comments USING btree (a, b)", t));
        // another table, even one whose name starts the same
        assertFalse(JoinSink.ownKeyOrIndex("ALTER TABLE public.comments_archive ADD CONSTRAINT x PRIMARY KEY (id)", t));
        assertFalse(JoinSink.ownKeyOrIndex("CREATE INDEX p ON public.posts USING btree (user_id)", t));
        // foreign keys need the referenced table's key: they wait for every table
        assertFalse(JoinSink.ownKeyOrIndex("ALTER TABLE public.comments ADD CONSTRAINT f FOREIGN KEY (post_id)"
                + " REFERENCES public.posts(id) NOT VALID", t));
        assertFalse(JoinSink.ownKeyOrIndex("ALTER TABLE public.comments VALIDATE CONSTRAINT f", t));
        // quoted names as quote_ident writes them
        assertTrue(JoinSink.ownKeyOrIndex("CREATE INDEX i ON \"Shop\".\"order\" USING btree (id)", "\"Shop\".\"order\""));
        assertFalse(JoinSink.ownKeyOrIndex("CREATE INDEX i ON \"Shop\".\"order\" USING btree (id)", "shop.\"order\""));
    }
}
