package org.activemirroring.change;

/**
 * A ChangeSet payload cannot be read: corrupt, truncated, or written by an incompatible version.
 * Permanent: retrying the same bytes cannot help.
 */
public final class ChangeSetFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public ChangeSetFormatException(String message) {
        super(message);
    }

    public ChangeSetFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
