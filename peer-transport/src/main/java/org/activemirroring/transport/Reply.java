package org.activemirroring.transport;

import java.util.Arrays;

/**
 * The body of an answer to a request: {@code length} bytes of {@code array} from {@code offset}.
 *
 * <p>Large answers (a join's chunks, several MiB each) should not be copied on their way through
 * the transport. A handler that leaves the byte before {@code offset} unused ({@code offset >= 1})
 * lets the transport write its status byte there and send the array as it is; the array then
 * belongs to the transport. A requester gets the answer's body in place, without a copy either.
 */
public record Reply(byte[] array, int offset, int length) {

    public Reply {
        if (array == null || offset < 0 || length < 0 || offset > array.length - length) {
            throw new IllegalArgumentException("reply of " + length + " bytes at " + offset + " does not fit an array of "
                    + (array == null ? "null" : array.length + " bytes"));
        }
    }

    /** All of {@code body} (no room for the transport: it copies once). */
    public static Reply of(byte[] body) {
        return new Reply(body, 0, body.length);
    }

    /** The body as an array of its own: {@link #array} itself when the body is all of it. */
    public byte[] toBytes() {
        return offset == 0 && length == array.length ? array : Arrays.copyOfRange(array, offset, offset + length);
    }
}
