package org.activemirroring.mirror.edge;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The read-your-writes cookie's value: per mirror where the visitor wrote, that mirror's journal
 * sequence number that covers the write. Format, version 1: {@code v1.<origin>:<seq>[.<origin>:<seq>...]},
 * e.g. {@code v1.mirror-a:1042.mirror-c:77}; at most {@link #MAX_ORIGINS} entries, node ids as
 * {@code mirror.node.id} allows them. Anything else (another version, a forged or cut value) is
 * no token at all: {@link #parse} returns null and the request is served as if it had none.
 *
 * <p>The token is not signed: a forged one can at most make a mirror hold that visitor's own
 * request for the bounded wait, which the visitor could as well do by waiting.
 */
public record RywToken(Map<String, Long> seqs) {
    static final int MAX_ORIGINS = 8;
    private static final String VERSION = "v1";
    private static final Pattern FORMAT = Pattern.compile(
            "v1(\\.[a-z0-9][a-z0-9-]{0,31}:[1-9][0-9]{0,17}){1," + MAX_ORIGINS + "}");

    public RywToken {
        seqs = Collections.unmodifiableMap(new LinkedHashMap<>(seqs));
    }

    /** The token in a cookie value, or null when the value is not a valid token of a known version. */
    public static RywToken parse(String value) {
        if (value == null || value.length() > 400 || !FORMAT.matcher(value).matches()) {
            return null;
        }
        Map<String, Long> seqs = new LinkedHashMap<>();
        for (String entry : value.substring(VERSION.length() + 1).split("\\.")) {
            int colon = entry.indexOf(':');
            if (seqs.put(entry.substring(0, colon), Long.parseLong(entry.substring(colon + 1))) != null) {
                return null; // an origin twice: never written by a mirror
            }
        }
        return new RywToken(seqs);
    }

    /**
     * This token with {@code origin} at least at {@code seq}; that origin moves to the end, and the
     * oldest entries go when there would be more than {@link #MAX_ORIGINS}.
     */
    public RywToken with(String origin, long seq) {
        Map<String, Long> next = new LinkedHashMap<>(seqs);
        Long had = next.remove(origin);
        next.put(origin, had == null ? seq : Math.max(had, seq));
        while (next.size() > MAX_ORIGINS) {
            next.remove(next.keySet().iterator().next());
        }
        return new RywToken(next);
    }

    /** The cookie value. */
    public String format() {
        StringBuilder sb = new StringBuilder(VERSION);
        seqs.forEach((o, s) -> sb.append('.').append(o).append(':').append(s));
        return sb.toString();
    }

    static RywToken empty() {
        return new RywToken(Map.of());
    }
}
