package org.activemirroring.db;

import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The JSON texts the version store and the conflict log keep, the same on every database: a row's
 * identity as the canonical key text, and a row image.
 */
public final class RowJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private RowJson() {
    }

    /** The canonical text of a row identity: a JSON array of its values in key order. */
    public static String keyText(Map<String, String> key) {
        // Written by hand, character for character what Jackson writes for a list of strings
        // (stored keys must never change): it runs for every row captured and applied, and
        // Jackson's general path was a tenth of the delivery thread's time.
        StringBuilder b = new StringBuilder(2 + 12 * key.size()).append('[');
        boolean first = true;
        for (String v : key.values()) {
            if (!first) {
                b.append(',');
            }
            first = false;
            if (v == null) {
                b.append("null");
                continue;
            }
            b.append('"');
            int plainFrom = 0;
            for (int i = 0; i < v.length(); i++) {
                char ch = v.charAt(i);
                if (ch >= 0x20 && ch != '"' && ch != '\\') {
                    continue;
                }
                b.append(v, plainFrom, i).append('\\');
                plainFrom = i + 1;
                switch (ch) {
                    case '"', '\\' -> b.append(ch);
                    case '\b' -> b.append('b');
                    case '\t' -> b.append('t');
                    case '\n' -> b.append('n');
                    case '\f' -> b.append('f');
                    case '\r' -> b.append('r');
                    default -> b.append("u00").append(HEX[ch >> 4]).append(HEX[ch & 0xf]);
                }
            }
            b.append(v, plainFrom, v.length()).append('"');
        }
        return b.append(']').toString();
    }

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    /** A row image of a ChangeSet as a JSON object, for the conflict log. */
    public static String imageJson(Map<String, String> image) {
        if (image == null) {
            return null;
        }
        try {
            return JSON.writeValueAsString(image);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render a row image", e);
        }
    }
}
