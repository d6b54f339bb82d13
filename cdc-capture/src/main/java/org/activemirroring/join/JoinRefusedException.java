package org.activemirroring.join;

/**
 * A join cannot go on until the operator changes something (the message says what): retrying,
 * or asking another donor, does not help.
 */
public final class JoinRefusedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public JoinRefusedException(String message) {
        super(message);
    }
}
