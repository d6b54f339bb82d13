package org.activemirroring.mirror;

/** A mirror node could not start; the message says which part and why. */
public final class MirrorStartException extends RuntimeException {
    public MirrorStartException(String message, Throwable cause) {
        super(message, cause);
    }
}
