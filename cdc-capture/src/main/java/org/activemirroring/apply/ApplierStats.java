package org.activemirroring.apply;

/**
 * Counters of a {@link ChangeSetApplier} since it was constructed.
 *
 * @param applied    ChangeSets applied and committed
 * @param duplicates ChangeSets skipped because their seq was already applied
 * @param ignored    envelopes of other payload types, not for the applier
 * @param failures   delivery attempts that failed and were left for the transport to retry
 * @param conflicts  writes that lost under the conflict rule and went to the conflict log
 * @param waits      ChangeSets that had to wait for changes of other origins they depend on
 * @param parked     ChangeSets parked in {@code mirror.parked} since start (failed for good, waiting
 *                   for a schema, or behind one of those)
 */
public record ApplierStats(long applied, long duplicates, long ignored, long failures, long conflicts, long waits,
                           long parked) {
}
