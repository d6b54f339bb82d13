package org.activemirroring.postgres;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class CapturePreflightTest {

    @Test
    void serversBeforePostgres14AreRefusedWithWhatToDo() {
        String refusal = CapturePreflight.versionRefusal(130_012);
        assertNotNull(refusal);
        assertTrue(refusal.contains("PostgreSQL 13.12"), refusal);
        assertTrue(refusal.contains("14 or later"), refusal);
        assertTrue(refusal.contains("pg_upgrade"), refusal);
    }

    @Test
    void typesCarriedExactlyAndTheRest() {
        for (String name : List.of("int4", "numeric", "tsvector", "tsquery", "bit", "varbit", "point", "line", "lseg",
                "box", "path", "polygon", "circle", "pg_lsn", "jsonpath", "interval", "money", "bytea")) {
            assertTrue(CapturePreflight.supported('b', name, true), name);
        }
        assertTrue(CapturePreflight.supported('b', "citext", false));
        assertTrue(CapturePreflight.supported('b', "hstore", false));
        for (char kind : new char[] {'e', 'r', 'm', 'c'}) {
            assertTrue(CapturePreflight.supported(kind, "site_type", false), "kind " + kind);
        }
        for (String name : List.of("timetz", "txid_snapshot", "regclass", "aclitem")) {
            assertFalse(CapturePreflight.supported('b', name, true), name);
        }
        assertFalse(CapturePreflight.supported('b', "ltree", false), "an extension type not tested yet");
        assertFalse(CapturePreflight.supported('p', "anyelement", true));
    }

    @Test
    void postgres14AndLaterAreAccepted() {
        assertNull(CapturePreflight.versionRefusal(140_000));
        assertNull(CapturePreflight.versionRefusal(160_015));
        assertNull(CapturePreflight.versionRefusal(180_006));
    }
}
