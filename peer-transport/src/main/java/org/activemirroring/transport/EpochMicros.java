package org.activemirroring.transport;

import java.time.Clock;
import java.time.Instant;

/** Wall-clock time in epoch microseconds, the unit of every pipeline timestamp. */
public final class EpochMicros {
    private EpochMicros() {
    }

    public static long now(Clock clock) {
        return of(clock.instant());
    }

    public static long now() {
        return of(Instant.now());
    }

    public static long of(Instant instant) {
        return instant.getEpochSecond() * 1_000_000L + instant.getNano() / 1_000;
    }
}
