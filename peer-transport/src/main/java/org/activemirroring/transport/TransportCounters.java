package org.activemirroring.transport;

import java.util.concurrent.atomic.AtomicLong;

/** The transport's counters, shared by its parts and read by {@link PeerTransport#stats()}. */
final class TransportCounters {
    final AtomicLong originated = new AtomicLong();
    final AtomicLong duplicatesDropped = new AtomicLong();
    final AtomicLong invalidDropped = new AtomicLong();
}
