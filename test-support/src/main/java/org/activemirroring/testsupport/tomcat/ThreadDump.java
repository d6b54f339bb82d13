package org.activemirroring.testsupport.tomcat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The threads of another JVM, from {@code jcmd <pid> Thread.print} (the JDK's own tool, next to
 * the running {@code java}).
 *
 * @param text the whole dump
 */
public record ThreadDump(String text) {
    private static final Pattern THREAD = Pattern.compile("^\"(.*)\" #", Pattern.MULTILINE);

    /** The threads the plugin and its libraries start (ActiveMirroring, JGroups, Debezium, Kafka Connect, HikariCP). */
    public static final Pattern MIRROR_THREAD = Pattern.compile(
            "^am-|activemirroring|jgroups|^TQ-|^Timer runner|TcpServer|Connection\\.Receiver|FD_SOCK|debezium"
                    + "|^blocking-snapshot|^pool-\\d+-thread|^kafka|^OffsetStorage|^SourceTaskOffsetCommitter"
                    + "|^change-event-source-coordinator|^HikariPool|housekeeper",
            Pattern.CASE_INSENSITIVE);

    /** Takes a dump of the JVM with process id {@code pid}. */
    public static ThreadDump of(long pid) {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        ProcessBuilder pb = new ProcessBuilder(jcmd.toString(), Long.toString(pid), "Thread.print")
                .redirectErrorStream(true);
        try {
            Process p = pb.start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException("jcmd " + pid + " Thread.print failed: "
                        + new String(out, StandardCharsets.UTF_8));
            }
            return new ThreadDump(new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException("Cannot run " + jcmd + " (a JDK, not a JRE, is needed): " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while taking a thread dump of " + pid, e);
        }
    }

    /** Every thread's name. */
    public List<String> names() {
        List<String> names = new ArrayList<>();
        Matcher m = THREAD.matcher(text);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    /** Names matching {@code pattern}. */
    public List<String> names(Pattern pattern) {
        return names().stream().filter(n -> pattern.matcher(n).find()).collect(Collectors.toList());
    }

    /** The threads of the plugin and its libraries ({@link #MIRROR_THREAD}). */
    public List<String> mirrorThreads() {
        return names(MIRROR_THREAD);
    }
}
