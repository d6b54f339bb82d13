package org.activemirroring.testsupport.tomcat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A Tomcat's log as tests read it: {@code logs/catalina.out} (everything the JVM printed: Tomcat's
 * own log through its console handler, the plugin's log, the leak warnings Tomcat writes when it
 * stops a web application) and the {@code logs/localhost.*.log} files (errors of filters,
 * servlets and listeners).
 */
public final class TomcatLog {
    /**
     * What Tomcat writes when an undeployed application leaves something behind: threads it
     * started, ThreadLocals it set, JDBC drivers it registered, timers, and the like.
     */
    public static final Pattern LEAK_WARNING = Pattern.compile(
            "appears to have started a thread named|failed to stop it|created a ThreadLocal with key"
                    + "|failed to remove it|registered the JDBC driver|failed to unregister it|memory leak",
            Pattern.CASE_INSENSITIVE);

    private final Path logs;

    TomcatLog(Path logsDir) {
        this.logs = logsDir;
    }

    /** {@code logs/catalina.out}. */
    public Path catalinaOut() {
        return logs.resolve("catalina.out");
    }

    /** Every line of catalina.out and the localhost logs (catalina.out first). */
    public List<String> lines() {
        List<String> all = new ArrayList<>(read(catalinaOut()));
        try (Stream<Path> files = Files.list(logs)) {
            for (Path f : files.filter(p -> p.getFileName().toString().startsWith("localhost.")).sorted().toList()) {
                all.addAll(read(f));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot list " + logs + ": " + e.getMessage(), e);
        }
        return all;
    }

    /** Lines matching {@code pattern}. */
    public List<String> matching(Pattern pattern) {
        return lines().stream().filter(l -> pattern.matcher(l).find()).collect(Collectors.toList());
    }

    /** Lines containing {@code text}. */
    public List<String> containing(String text) {
        return lines().stream().filter(l -> l.contains(text)).collect(Collectors.toList());
    }

    /** Every leak warning Tomcat logged so far ({@link #LEAK_WARNING}), with the lines that follow each. */
    public List<String> leakWarnings() {
        List<String> all = lines();
        List<String> found = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            if (LEAK_WARNING.matcher(all.get(i)).find()) {
                found.add(String.join("\n", all.subList(i, Math.min(all.size(), i + 3))));
            }
        }
        return found;
    }

    /** The last {@code n} lines of catalina.out, for failure messages. */
    public String tail(int n) {
        List<String> lines = read(catalinaOut());
        return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
    }

    private static List<String> read(Path file) {
        if (!Files.exists(file)) {
            return List.of();
        }
        try {
            // Malformed bytes (a binary dump in the log) must not hide the rest.
            return new String(Files.readAllBytes(file), StandardCharsets.UTF_8).lines().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
