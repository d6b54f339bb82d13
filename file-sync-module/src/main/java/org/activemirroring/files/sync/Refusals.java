package org.activemirroring.files.sync;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.activemirroring.files.FolderPaths;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * File changes and files refused, counted by reason for status, each kind logged once per origin
 * (a mirror that keeps sending the same bad change does not flood the log).
 *
 * <p>Reasons: {@code unreadable} (a payload that cannot be decoded), {@code unknown-folder},
 * {@code unsafe-path} ({@code ..}, absolute, through a symlink, a name this file system cannot
 * hold), {@code too-large}, {@code case-clash}, {@code content-mismatch} (a file whose blocks do
 * not make the announced content), {@code bad-delta} (a block-list delta that does not fit the
 * base it names, see {@link BlockListDeltas}), and {@code local} for files of this mirror's own folders that
 * are not replicated (unsafe names, too large).
 */
public final class Refusals {
    private static final Logger LOG = LoggerFactory.getLogger(Refusals.class);

    private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();
    private final Set<String> logged = ConcurrentHashMap.newKeySet();
    private volatile String last;

    /** Counts and (once per origin and reason) logs a refused change of another mirror. */
    public void refuse(String origin, String folder, String reason, String path, String why) {
        counts.computeIfAbsent(reason, r -> new AtomicLong()).incrementAndGet();
        String text = why.startsWith("Refused ") ? why.replaceAll("; nothing of it is applied$", "")
                : "Refused a file change from " + origin + " for folder '" + folder + "'"
                + (path == null ? "" : ", path '" + FolderPaths.printable(path) + "'") + ": " + why;
        last = text;
        if (logged.add(origin + "\0" + reason)) {
            LOG.warn("{}. Nothing of it was written. Further refusals of this kind from {} are only counted"
                    + " (status: files.refused).", text, origin);
        }
    }

    /** Counts and (once per path) logs a local file that is not replicated. */
    public void localOnce(String folder, String path, String why) {
        if (logged.add("local\0" + folder + "\0" + path)) {
            counts.computeIfAbsent("local", r -> new AtomicLong()).incrementAndGet();
            LOG.warn("Folder '{}': {} is not replicated: {}", folder, FolderPaths.printable(path), why);
        }
    }

    /** Counts per reason. */
    public Map<String, Long> counts() {
        Map<String, Long> out = new TreeMap<>();
        counts.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    /** The newest refusal of another mirror's change, or null. */
    public String last() {
        return last;
    }
}
