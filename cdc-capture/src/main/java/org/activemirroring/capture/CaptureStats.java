package org.activemirroring.capture;

import java.time.Instant;

/**
 * Counters of a {@link DebeziumCapture} since it started.
 *
 * @param published      transactions published as ChangeSets
 * @param echoesDropped  transactions dropped because our applier wrote them ({@link EchoPolicy})
 * @param replaysSkipped transactions Debezium delivered again that the journal already holds
 * @param emptyDropped   transactions without mirrored rows, not published
 * @param lastCommitTime source commit time of the newest published transaction; null before the first
 */
public record CaptureStats(long published, long echoesDropped, long replaysSkipped, long emptyDropped,
                           Instant lastCommitTime) {
}
