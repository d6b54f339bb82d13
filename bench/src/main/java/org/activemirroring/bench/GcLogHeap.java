package org.activemirroring.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The largest heap in use right after a garbage collection, read from a JVM's GC log
 * ({@code -Xlog:gc:file=...}, lines like {@code Pause Young (Normal) (G1 Evacuation Pause) 40M->12M(64M)}):
 * the live set the JVM needed at its peak, which is what {@code -Xmx} must hold.
 */
final class GcLogHeap {
    private static final Pattern AFTER_GC = Pattern.compile("(\\d+)M->(\\d+)M\\((\\d+)M\\)");

    private GcLogHeap() {
    }

    /** The peak heap after GC in MiB, 0 before the first collection or without a log. */
    static long peakAfterGcMib(Path gcLog) throws IOException {
        if (!Files.exists(gcLog)) {
            return 0;
        }
        long peak = 0;
        for (String line : Files.readAllLines(gcLog)) {
            Matcher m = AFTER_GC.matcher(line);
            if (m.find()) {
                peak = Math.max(peak, Long.parseLong(m.group(2)));
            }
        }
        return peak;
    }

    /** How many collections the log records. */
    static long collections(Path gcLog) throws IOException {
        if (!Files.exists(gcLog)) {
            return 0;
        }
        return Files.readAllLines(gcLog).stream().filter(l -> AFTER_GC.matcher(l).find()).count();
    }
}
