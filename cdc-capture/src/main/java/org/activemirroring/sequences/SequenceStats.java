package org.activemirroring.sequences;

/**
 * What the {@link SequenceKeeper} did since the node started, for the status page.
 *
 * @param managed        sequences feeding mirrored tables that the keeper keeps interleaved
 * @param corrections    times a sequence had to be corrected (at start, and after every reset)
 * @param lastCorrection the last correction, e.g. "public.items_id_seq: increment 1 -> 16, next 1 -> 33"; null if none
 * @param problem        a sequence the keeper cannot manage or the last check's failure; null if none
 */
public record SequenceStats(int managed, long corrections, String lastCorrection, String problem) {
}
