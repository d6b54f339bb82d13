package org.activemirroring.files.sync;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.activemirroring.files.FolderEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker threads that write wanted versions into place, a few files at once. A file asked for
 * by an on-demand read goes first; a file that could not be written (no peer holds a block yet, a
 * disk error) waits 1 s, doubling up to 60 s, before it is tried again. A folder's deletes wait
 * until its new files are written, so that a renamed file's content is still here to be reused.
 */
final class Fetching implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Fetching.class);
    private static final long MIN_BACKOFF_MS = 1_000;
    private static final long MAX_BACKOFF_MS = 60_000;

    private record Task(FolderSync folder, FolderEntry entry) {
        String key() {
            return folder.folder().name() + "\0" + entry.path();
        }
    }

    private final FileSync sync;
    private final int threads;
    private final List<Thread> workers = new ArrayList<>();
    private final Deque<Task> queue = new ArrayDeque<>();
    private final Set<String> inProgress = new HashSet<>();
    private final Map<String, long[]> backoff = new HashMap<>(); // key -> {due, delay}
    private final Set<String> preferred = new LinkedHashSet<>();
    private boolean refill = true;
    private long lastFill;
    /** A full look at the wanted entries costs O(wanted): at most this often while work is queued. */
    private static final long REFILL_MS = 200;
    private volatile boolean closed;
    private long changes;

    Fetching(FileSync sync, int threads) {
        this.sync = sync;
        this.threads = threads;
    }

    void start() {
        for (int i = 0; i < threads; i++) {
            Thread t = org.activemirroring.logging.LogContext.thread(sync.self(),
                    "am-files-fetch-" + sync.self() + "-" + i, this::work);
            workers.add(t);
            t.start();
        }
    }

    /** Something new is wanted: look again. */
    synchronized void kick() {
        refill = true;
        notifyAll();
    }

    /** Writes this file before others (an on-demand read waits for it). */
    synchronized void prefer(String folder, String path) {
        if (preferred.add(folder + "\0" + path)) {
            backoff.remove(folder + "\0" + path);
            refill = true;
            notifyAll();
        }
    }

    /** Waits until a file was written or a fetch ended, at most {@code millis}. */
    synchronized void awaitChange(long millis) throws InterruptedException {
        long seen = changes;
        long deadline = System.currentTimeMillis() + millis;
        while (seen == changes && !closed) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                return;
            }
            wait(left);
        }
    }

    private void work() {
        while (!closed) {
            Task t;
            try {
                t = next();
            } catch (InterruptedException e) {
                return;
            }
            if (t == null) {
                continue;
            }
            boolean done = false;
            try {
                done = t.folder().materialize(t.entry(), sync.assembler());
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.warn("Writing {} of folder '{}' failed: {}", t.entry().path(),
                        t.folder().folder().name(), e.toString(), e);
            } finally {
                finished(t, done);
            }
        }
    }

    private synchronized void finished(Task t, boolean done) {
        inProgress.remove(t.key());
        if (done) {
            backoff.remove(t.key());
            preferred.remove(t.key());
        } else {
            long[] b = backoff.get(t.key());
            long delay = b == null ? MIN_BACKOFF_MS : Math.min(b[1] * 2, MAX_BACKOFF_MS);
            backoff.put(t.key(), new long[] {System.currentTimeMillis() + delay, delay});
        }
        changes++;
        notifyAll();
    }

    private synchronized Task next() throws InterruptedException {
        while (!closed) {
            long now = System.currentTimeMillis();
            if (queue.isEmpty() || (refill && now - lastFill >= REFILL_MS)) {
                fill();
                lastFill = now;
            }
            Task t = take();
            if (t != null) {
                inProgress.add(t.key());
                return t;
            }
            wait(500);
        }
        return null;
    }

    private Task take() {
        for (var it = queue.iterator(); it.hasNext(); ) {
            Task t = it.next();
            if (inProgress.contains(t.key())) {
                it.remove();
                continue;
            }
            if (t.entry().tombstone() && liveBusy(t.folder())) {
                continue; // deletes after the folder's new files
            }
            it.remove();
            return t;
        }
        return null;
    }

    private boolean liveBusy(FolderSync f) {
        String prefix = f.folder().name() + "\0";
        for (Task q : queue) {
            if (q.folder() == f && !q.entry().tombstone()) {
                return true;
            }
        }
        for (String k : inProgress) {
            if (k.startsWith(prefix)) {
                FolderEntry w = f.state().wanted(k.substring(prefix.length()));
                if (w != null && !w.tombstone()) {
                    return true;
                }
            }
        }
        return false;
    }

    private void fill() {
        refill = false;
        queue.clear();
        long now = System.currentTimeMillis();
        List<Task> first = new ArrayList<>();
        for (FolderSync f : sync.folders().values()) {
            for (FolderEntry e : f.state().wantedEntries()) {
                Task t = new Task(f, e);
                String key = t.key();
                long[] b = backoff.get(key);
                if (inProgress.contains(key) || (b != null && b[0] > now)) {
                    continue;
                }
                if (preferred.contains(key)) {
                    first.add(t);
                } else {
                    queue.addLast(t);
                }
            }
        }
        for (int i = first.size() - 1; i >= 0; i--) {
            queue.addFirst(first.get(i));
        }
        if (queue.isEmpty() && !backoff.isEmpty()) {
            backoff.values().removeIf(b -> b[0] + MAX_BACKOFF_MS * 10 < now); // forgotten entries
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        for (Thread t : workers) {
            t.interrupt();
        }
        for (Thread t : workers) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
