package org.activemirroring.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The restart policy alone: delays and status as time passes on a manual clock. */
class DeliveryRestartsTest {

    private static final Instant T0 = Instant.parse("2024-05-01T10:00:00Z");

    private final ManualClock clock = new ManualClock(T0);
    private final DeliveryRestarts restarts = new DeliveryRestarts("me", clock);

    /** Fails, waits the delay it got (on the clock), restarts; returns the delay. */
    private long failAndRestart(String error) {
        long delay = restarts.failed(new IllegalStateException(error), "delivering a#7");
        clock.advance(Duration.ofMillis(delay));
        restarts.restarting();
        return delay;
    }

    @Test
    void whileDeliveryKeepsFailingTheDelayDoublesFromOneSecondToSixtyAndStaysThere() {
        restarts.started();
        List<Long> delays = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            delays.add(failAndRestart("boom"));
        }
        assertEquals(List.of(1_000L, 2_000L, 4_000L, 8_000L, 16_000L, 32_000L, 60_000L, 60_000L, 60_000L), delays);
    }

    @Test
    void aHealthyRunStartsTheDelaysOverAndAShortOneDoesNot() {
        restarts.started();
        failAndRestart("boom");
        failAndRestart("boom");
        restarts.resumed();
        clock.advance(Duration.ofMinutes(1)); // ran a minute: the same trouble, probably
        assertEquals(4_000L, failAndRestart("boom"));
        restarts.resumed();
        clock.advance(DeliveryRestarts.HEALTHY_AFTER);
        assertEquals(1_000L, failAndRestart("boom"), "after a healthy run, a failure is a new problem");
    }

    @Test
    void statusSaysDownSinceTheFirstFailureUntilDeliveryRunsAgainThenKeepsTheRecord() {
        restarts.started();
        assertEquals(new DeliveryStatus(true, 0, null, null, null, null), restarts.status(true));

        restarts.failed(new IllegalStateException("first"), "delivering a#7");
        DeliveryStatus down = restarts.status(true);
        assertFalse(down.running());
        assertEquals(T0, down.downSince());
        assertEquals(T0.plusSeconds(1), down.nextRestart());
        assertEquals("java.lang.IllegalStateException: first (delivering a#7)", down.lastError());
        assertTrue(restarts.isDown());

        clock.advance(Duration.ofSeconds(1));
        restarts.restarting();
        restarts.failed(new AssertionError("second"), null);
        down = restarts.status(true);
        assertEquals(T0, down.downSince(), "one outage, however many restarts");
        assertEquals(1, down.restarts());
        assertEquals("java.lang.AssertionError: second", down.lastError());
        assertEquals(T0.plusSeconds(1), down.lastErrorAt());

        clock.advance(Duration.ofSeconds(2));
        restarts.restarting();
        restarts.resumed();
        DeliveryStatus up = restarts.status(true);
        assertEquals(new DeliveryStatus(true, 2, "java.lang.AssertionError: second", T0.plusSeconds(1), null, null), up);
        assertFalse(restarts.isDown());

        assertFalse(restarts.status(false).running(), "a closed or dead thread does not run");
        assertNull(restarts.status(false).downSince());
    }

    @Test
    void aHugeErrorTextIsCut() {
        restarts.failed(new IllegalStateException("x".repeat(10_000)), null);
        assertTrue(restarts.status(true).lastError().length() < DeliveryRestarts.MAX_ERROR_CHARS + 10);
    }
}
