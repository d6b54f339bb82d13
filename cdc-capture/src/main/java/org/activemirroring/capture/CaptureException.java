package org.activemirroring.capture;

/** Capture could not start or stopped on an error; the message says what to change. */
public final class CaptureException extends Exception {
    private static final long serialVersionUID = 1L;

    public CaptureException(String message, Throwable cause) {
        super(message, cause);
    }
}
