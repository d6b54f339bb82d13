package org.activemirroring.files.sync;

import java.util.List;
import java.util.Map;

import org.activemirroring.config.ConfigOption;
import org.activemirroring.config.Importance;

/**
 * How replicated folders are watched, scanned and transferred: the same for every folder of a
 * mirror.
 *
 * @param watch            notice changes as they happen (else only the periodic scan finds them)
 * @param debounceMs       after a change is noticed, wait this long for quiet before scanning
 * @param scanIntervalMs   scan every folder this often anyway (the scan is the truth)
 * @param parallelFiles    files written at once
 * @param parallelRequests block requests in flight per file
 * @param requestTimeoutMs how long one block request to a peer may take
 */
public record FileSyncOptions(boolean watch, long debounceMs, long scanIntervalMs, int parallelFiles,
                              int parallelRequests, long requestTimeoutMs) {

    public static final ConfigOption<Boolean> WATCH = ConfigOption.bool("mirror.files.watch", true, Importance.RARE,
            "Notice changes in replicated folders as they happen (inotify on Linux); when false, only the periodic"
                    + " scan finds them.");
    public static final ConfigOption<Long> DEBOUNCE_MS = ConfigOption.longValue("mirror.files.debounce.ms", 50, 0,
            60_000, Importance.RARE, "After a change in a folder is noticed, wait this long for quiet before scanning"
                    + " (a burst of writes is scanned once); a folder whose scan takes long is scanned at most a fifth"
                    + " of the time while changes keep coming.");
    public static final ConfigOption<Long> SCAN_INTERVAL_MS = ConfigOption.longValue("mirror.files.scan.interval.ms",
            60_000, 100, 86_400_000, Importance.RARE, "Scan every replicated folder this often even when nothing was"
                    + " noticed (a scan reads only files whose size, time or inode changed).");
    public static final ConfigOption<Integer> PARALLEL_FILES = ConfigOption.integer("mirror.files.parallel.files", 4,
            1, 64, Importance.RARE, "Files fetched from other mirrors at once (each is forced to disk before it is"
                    + " renamed into place; several at once share the disk's flushes).");
    public static final ConfigOption<Integer> PARALLEL_REQUESTS = ConfigOption.integer(
            "mirror.files.parallel.requests", 4, 1, 64, Importance.RARE,
            "Block requests in flight per file being fetched (each up to 4 MiB).");
    public static final ConfigOption<Long> REQUEST_TIMEOUT_MS = ConfigOption.longValue(
            "mirror.files.request.timeout.ms", 30_000, 100, 600_000, Importance.RARE,
            "How long one block request to another mirror may take before another mirror is asked.");

    /** Every option of this record, for the README's option tables. */
    public static final List<ConfigOption<?>> OPTIONS = List.of(WATCH, DEBOUNCE_MS, SCAN_INTERVAL_MS, PARALLEL_FILES,
            PARALLEL_REQUESTS, REQUEST_TIMEOUT_MS);

    /** The defaults. */
    public static FileSyncOptions defaults() {
        return from(Map.of(), new java.util.ArrayList<>());
    }

    /** Reads the options; problems are added to {@code problems}. */
    public static FileSyncOptions from(Map<String, String> raw, List<String> problems) {
        Boolean watch = WATCH.read(raw, problems);
        Long debounce = DEBOUNCE_MS.read(raw, problems);
        Long interval = SCAN_INTERVAL_MS.read(raw, problems);
        Integer files = PARALLEL_FILES.read(raw, problems);
        Integer requests = PARALLEL_REQUESTS.read(raw, problems);
        Long timeout = REQUEST_TIMEOUT_MS.read(raw, problems);
        return new FileSyncOptions(watch == null || watch, debounce == null ? 200 : debounce,
                interval == null ? 60_000 : interval, files == null ? 4 : files, requests == null ? 4 : requests,
                timeout == null ? 30_000 : timeout);
    }

    /** These options with another scan interval (tests). */
    public FileSyncOptions withScanIntervalMs(long ms) {
        return new FileSyncOptions(watch, debounceMs, ms, parallelFiles, parallelRequests, requestTimeoutMs);
    }
}
