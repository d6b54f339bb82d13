package org.activemirroring.apply;

import org.activemirroring.change.ChangeSet;

/**
 * Told when a peer's ChangeSet has been committed into this mirror's database, with the wall-clock
 * time in epoch microseconds: together with the ChangeSet's commit and capture times this gives
 * the per-stage latency breakdown. Called on the delivery thread: must be fast and must not throw.
 */
@FunctionalInterface
public interface ApplyObserver {
    ApplyObserver NONE = (changeSet, epochMicros) -> { };

    void applied(ChangeSet changeSet, long epochMicros);
}
