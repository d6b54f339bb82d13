package org.activemirroring.capture;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    void postgres14AndLaterAreAccepted() {
        assertNull(CapturePreflight.versionRefusal(140_000));
        assertNull(CapturePreflight.versionRefusal(160_015));
        assertNull(CapturePreflight.versionRefusal(180_006));
    }
}
