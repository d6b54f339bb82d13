package org.activemirroring.transport;

import java.util.Map;

/**
 * Told when envelopes this mirror still needs are gone from every reachable mirror's journal
 * (retention deleted them while it was away): catch-up cannot fill the gap, only a full copy of a
 * peer's database can.
 */
@FunctionalInterface
public interface HistoryLossListener {
    /**
     * @param origin      whose envelopes are missing
     * @param missingFrom the first seq this mirror needs
     * @param firstHeld   per reachable mirror, the lowest seq of {@code origin} its journal holds
     *                    (absent: none)
     */
    void historyLost(String origin, long missingFrom, Map<String, Long> firstHeld);
}
