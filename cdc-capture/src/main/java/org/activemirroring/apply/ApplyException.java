package org.activemirroring.apply;



/**
 * Applying a ChangeSet failed. {@link #isRetriable()} is true when the same envelope may succeed
 * later (connection lost, database restarting, lock timeout, serialization failure) and false when
 * it cannot without an operator (schema differs, table without key, unreadable payload).
 */
public final class ApplyException extends Exception {
    private static final long serialVersionUID = 1L;

    private final boolean retriable;

    public ApplyException(String message, boolean retriable, Throwable cause) {
        super(message, cause);
        this.retriable = retriable;
    }

    public boolean isRetriable() {
        return retriable;
    }
}
