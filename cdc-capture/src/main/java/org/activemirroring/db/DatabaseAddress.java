package org.activemirroring.db;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Host, port and database of a single-host JDBC URL, {@code <prefix>host[:port]/database[?options]}
 * (PostgreSQL's {@code jdbc:postgresql://}, MariaDB's {@code jdbc:mariadb://} have this form).
 *
 * <p>Debezium connectors want the three parts as separate settings while the applier uses the URL
 * as is, so the URL is parsed once, when the configuration is read, and both sides are sure to
 * talk to the same database.
 *
 * @param host     never null or blank; an IPv6 address without its brackets
 * @param port     the database's default port when the URL gives none
 * @param database never null or blank
 */
public record DatabaseAddress(String host, int port, String database) {

    private static final String FORM = "(\\[[0-9A-Fa-f:.]+]|[^:/?,\\[\\]]+)(?::(\\d{1,5}))?/([^?/]+)(\\?.*)?";

    /**
     * Parses a URL.
     *
     * @param prefix      what the URL must start with, e.g. {@code jdbc:postgresql://}
     * @param defaultPort the port when the URL gives none
     * @throws IllegalArgumentException saying what is wrong and what a valid URL looks like
     */
    public static DatabaseAddress parse(String url, String prefix, int defaultPort) {
        String example = prefix + "localhost:" + defaultPort + "/site";
        if (url == null || !url.startsWith(prefix)) {
            throw new IllegalArgumentException("it must start with " + prefix + " (e.g. " + example + ")");
        }
        Matcher m = Pattern.compile(Pattern.quote(prefix) + FORM).matcher(url.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("it must look like " + prefix + "host[:port]/database[?options]"
                    + " with exactly one host (e.g. " + example + ")");
        }
        String host = m.group(1);
        if (host.startsWith("[")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = defaultPort;
        if (m.group(2) != null) {
            port = Integer.parseInt(m.group(2));
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("its port " + port + " is not between 1 and 65535");
            }
        }
        return new DatabaseAddress(host, port, m.group(3));
    }
}
