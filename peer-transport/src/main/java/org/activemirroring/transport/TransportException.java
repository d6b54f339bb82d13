package org.activemirroring.transport;

/** A transport operation failed; {@link #isRetriable()} tells whether trying again can help. */
public class TransportException extends Exception {
    private final boolean retriable;

    public TransportException(String message, boolean retriable, Throwable cause) {
        super(message, cause);
        this.retriable = retriable;
    }

    public TransportException(String message, boolean retriable) {
        this(message, retriable, null);
    }

    /** True for I/O, peer down, timeouts; false for bad input, corrupt data, bad config. */
    public boolean isRetriable() {
        return retriable;
    }
}
