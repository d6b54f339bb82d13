package org.activemirroring.files.transfer;

/**
 * A {@value BlockWire#KIND} request or reply that does not follow {@link BlockWire}: corrupt,
 * truncated, over a limit, or from an incompatible version. Nothing of it is used.
 */
public final class BlockWireException extends Exception {
    private static final long serialVersionUID = 1L;

    public BlockWireException(String message) {
        super(message);
    }
}
