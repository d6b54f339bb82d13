package org.activemirroring.postgres;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Host, port and database of a {@code jdbc:postgresql://host[:port]/database[?params]} URL.
 *
 * <p>Debezium wants the three parts as separate settings while the applier uses the URL as is, so
 * the URL is parsed once here and both sides are sure to talk to the same database.
 *
 * @param host     never null or blank
 * @param port     5432 when the URL gives none
 * @param database never null or blank
 */
public record PostgresUrl(String host, int port, String database) {

    /** The prefix a mirror's database URL must have. */
    public static final String PREFIX = "jdbc:postgresql://";

    private static final Pattern URL = Pattern.compile(
            "jdbc:postgresql://(\\[[0-9A-Fa-f:.]+]|[^:/?,\\[\\]]+)(?::(\\d{1,5}))?/([^?/]+)(\\?.*)?");

    /**
     * Parses a URL.
     *
     * @throws IllegalArgumentException saying what is wrong and what a valid URL looks like
     */
    public static PostgresUrl parse(String url) {
        if (url == null || !url.startsWith(PREFIX)) {
            throw new IllegalArgumentException("it must start with " + PREFIX
                    + " (e.g. jdbc:postgresql://localhost:5432/site)");
        }
        Matcher m = URL.matcher(url.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("it must look like jdbc:postgresql://host[:port]/database[?options]"
                    + " with exactly one host (e.g. jdbc:postgresql://localhost:5432/site)");
        }
        String host = m.group(1);
        if (host.startsWith("[")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = 5432;
        if (m.group(2) != null) {
            port = Integer.parseInt(m.group(2));
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("its port " + port + " is not between 1 and 65535");
            }
        }
        return new PostgresUrl(host, port, m.group(3));
    }
}
