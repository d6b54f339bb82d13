package org.activemirroring.transport;

/**
 * Sees envelopes pass the transport's stages, with wall-clock times in epoch microseconds, so a
 * benchmark or a metrics exporter can break replication latency down by stage. Called on the
 * transport's own threads: implementations must be fast and must not throw.
 */
public interface TransportObserver {
    /** Does nothing; the default. */
    TransportObserver NONE = new TransportObserver() {
    };

    /** This node's own envelope is in its journal (and on disk, if fsync is on). */
    default void journaled(Envelope envelope, long epochMicros) {
    }

    /** This node's own envelope was handed to the network. */
    default void sent(Envelope envelope, long epochMicros) {
    }

    /** Another node's envelope arrived from the network (before any dedupe or ordering). */
    default void received(Envelope envelope, long epochMicros) {
    }
}
