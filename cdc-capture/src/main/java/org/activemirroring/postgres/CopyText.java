package org.activemirroring.postgres;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Reading PostgreSQL's COPY text format (tab-separated fields, one row per line, backslash
 * escapes, {@code \N} for NULL), as far as a join needs it.
 */
public final class CopyText {

    private CopyText() {
    }

    /** The first field of the last row, unescaped; null for NULL. The data must hold a row. */
    static String firstFieldOfLastLine(byte[] copy, int length) {
        return firstFieldOfLastLine(copy, 0, length);
    }

    /** Like {@link #firstFieldOfLastLine(byte[], int)}, of the data from {@code from} to {@code to}. */
    public static String firstFieldOfLastLine(byte[] copy, int from, int to) {
        int end = to;
        if (end > from && copy[end - 1] == '\n') {
            end--;
        }
        if (end <= from) {
            throw new IllegalArgumentException("COPY data holds no row");
        }
        int start = end;
        while (start > from && copy[start - 1] != '\n') {
            start--;
        }
        int fieldEnd = start;
        while (fieldEnd < end && copy[fieldEnd] != '\t') {
            fieldEnd++;
        }
        return unescape(copy, start, fieldEnd);
    }

    /** Unescapes one field of COPY text. */
    static String unescape(byte[] b, int from, int to) {
        if (to - from == 2 && b[from] == '\\' && b[from + 1] == 'N') {
            return null;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(to - from);
        for (int i = from; i < to; i++) {
            byte c = b[i];
            if (c != '\\' || i + 1 >= to) {
                out.write(c);
                continue;
            }
            byte n = b[++i];
            switch (n) {
                case 'b' -> out.write('\b');
                case 'f' -> out.write('\f');
                case 'n' -> out.write('\n');
                case 'r' -> out.write('\r');
                case 't' -> out.write('\t');
                case 'v' -> out.write(0x0b);
                case 'x' -> {
                    int v = 0;
                    int digits = 0;
                    while (digits < 2 && i + 1 < to && Character.digit(b[i + 1], 16) >= 0) {
                        v = v * 16 + Character.digit(b[++i], 16);
                        digits++;
                    }
                    out.write(digits == 0 ? 'x' : v);
                }
                default -> {
                    if (n >= '0' && n <= '7') {
                        int v = n - '0';
                        for (int k = 0; k < 2 && i + 1 < to && b[i + 1] >= '0' && b[i + 1] <= '7'; k++) {
                            v = v * 8 + (b[++i] - '0');
                        }
                        out.write(v);
                    } else {
                        out.write(n); // \\ and any other escaped character stand for themselves
                    }
                }
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
