package org.activemirroring.files.watch;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;
import static java.nio.file.StandardWatchEventKinds.OVERFLOW;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

import org.activemirroring.files.FolderIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches one replicated folder and calls {@code onChange} soon after something in it changed, so
 * the folder's scan can run now instead of at its next period. A hint only: the scan stays the
 * truth, and {@code onChange} is told nothing about what changed.
 *
 * <p>Uses the JDK {@link WatchService}. On Linux that is inotify, so events arrive within
 * milliseconds, but each watched directory costs one inotify watch ({@code fs.inotify.max_user_watches});
 * on other platforms the JDK polls every few seconds, which is no faster than a short scan period.
 * Every directory under the root is registered (the service is not recursive), except those
 * {@code skipDirectory} accepts and this module's temp directories ({@value FolderIndex#TEMP_PREFIX}*);
 * directories that appear later are registered as their creation is seen, and the keys of vanished
 * directories are dropped. Events about names starting with {@value FolderIndex#TEMP_PREFIX} (this
 * module's own temp files) are ignored, and so is a quiet period whose events all named files the
 * index already describes as they are on disk (see the constructor's {@code known}): the files
 * this mirror writes for other mirrors' changes do not each cost it a scan.
 *
 * <p>Debounce: {@code onChange} runs on the watcher thread once no event arrived for
 * {@code debounce}, but at most {@code 5 * debounce} after the first pending event while events
 * keep coming, so a long burst still gets scanned. An {@code OVERFLOW} (events were lost) runs it
 * at once, after registering any directory that was missed. {@code onChange} should be quick (wake
 * the scan loop, not scan); an exception from it is logged and the watcher goes on.
 *
 * <p>When the service cannot be set up or a directory cannot be registered (e.g. the inotify
 * watch limit is reached), the watcher logs one WARN, {@link #watching()} is false and changes are
 * found by the periodic scan only; {@link #start()} never throws for that. The wait uses the real
 * clock ({@code System.nanoTime}): it is {@code WatchService.poll}'s timeout, which an injected
 * clock could not advance.
 *
 * <p>Thread-safe. Not restartable: {@link #start()} once, {@link #close()} any number of times.
 */
public final class FolderWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FolderWatcher.class);
    /** How long {@link #close()} waits for a slow {@code onChange} before it gives up on the thread. */
    private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(10);
    /** Files remembered per quiet period; past this many a scan runs without asking {@code known}. */
    private static final int MAX_TRACKED = 4096;

    private final String name;
    private final Path root;
    private final Predicate<Path> skipDirectory;
    private final long debounceNanos;
    private final Runnable onChange;
    private final Predicate<Path> known;

    private final AtomicLong events = new AtomicLong();
    private final AtomicLong overflows = new AtomicLong();
    private final AtomicLong knownOnly = new AtomicLong();
    /** Files named by events since the last {@code onChange} (watcher thread only). */
    private final Set<Path> named = new HashSet<>();
    /** Something since the last {@code onChange} needs a scan whatever {@link #known} says (watcher thread only). */
    private boolean scanNeeded;
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicBoolean warned = new AtomicBoolean();
    private volatile boolean watching;
    private volatile WatchService service;
    private volatile Thread thread;
    /** The directory each key watches; only the watcher thread touches it once started. */
    private final Map<WatchKey, Path> dirs = new HashMap<>();

    /**
     * @param name          the folder's name, used in the thread name {@code am-watch-<name>} and in logs
     * @param root          the folder's root directory
     * @param skipDirectory true for a directory (an absolute path under {@code root}, never root itself,
     *                      possibly no longer existing) that is not replicated and need not be watched
     * @param debounce      quiet time after the last event before {@code onChange} runs; positive
     * @param onChange      called on the watcher thread when the folder should be scanned
     */
    public FolderWatcher(String name, Path root, Predicate<Path> skipDirectory, Duration debounce, Runnable onChange) {
        this(name, root, skipDirectory, debounce, onChange, file -> false);
    }

    /**
     * As above, with {@code known}: true for a file (an absolute path under {@code root}) that the
     * folder's index already describes as it is on disk, so an event about it needs no scan (the
     * file this mirror has just written there, or deleted, for another mirror's change). When every
     * file the events of a quiet period named is known, and no directory appeared, {@code onChange}
     * does not run ({@link #knownOnly()}). Asked on the watcher thread once the period is over.
     */
    public FolderWatcher(String name, Path root, Predicate<Path> skipDirectory, Duration debounce, Runnable onChange,
                         Predicate<Path> known) {
        this.known = Objects.requireNonNull(known, "known");
        this.name = Objects.requireNonNull(name, "name");
        this.root = Objects.requireNonNull(root, "root").toAbsolutePath().normalize();
        this.skipDirectory = Objects.requireNonNull(skipDirectory, "skipDirectory");
        Objects.requireNonNull(debounce, "debounce");
        if (debounce.isNegative() || debounce.isZero()) {
            throw new IllegalArgumentException("Invalid debounce " + debounce + " for folder '" + name
                    + "': give a positive duration, e.g. 200 ms");
        }
        this.debounceNanos = debounce.toNanos();
        this.onChange = Objects.requireNonNull(onChange, "onChange");
    }

    /**
     * Registers the folder's directories and starts the watcher thread. When that fails the watcher
     * logs one WARN and stays idle ({@link #watching()} false); it does not throw for that.
     *
     * @throws IllegalStateException when called twice or after {@link #close()}
     */
    public void start() {
        if (closed.get()) {
            throw new IllegalStateException("FolderWatcher '" + name + "' is closed: create a new one to watch again");
        }
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("FolderWatcher '" + name + "' is already started: call start() once");
        }
        WatchService ws;
        try {
            ws = root.getFileSystem().newWatchService();
        } catch (IOException | UnsupportedOperationException e) {
            giveUp("the file system offers no watch service (" + e + ")");
            return;
        }
        service = ws;
        synchronized (dirs) {
            String failure = registerTree(root);
            if (failure != null) {
                giveUp(failure);
                closeService();
                return;
            }
        }
        watching = true;
        Thread t = org.activemirroring.logging.LogContext.thread(org.activemirroring.logging.LogContext.current(),
                "am-watch-" + name, this::run);
        thread = t;
        t.start();
        // close() may have run between the check above and here; it must still stop this thread.
        if (closed.get()) {
            stop();
        }
    }

    /** True while the watcher receives events; false before start, after close or when it gave up. */
    public boolean watching() {
        return watching;
    }

    /** Quiet periods whose events were all about files the index already described as on disk: no scan ran. */
    public long knownOnly() {
        return knownOnly.get();
    }

    /** Events seen so far (not counting overflows and ignored temp names). */
    public long events() {
        return events.get();
    }

    /** Times the service lost events (queue overflow); each led to an immediate {@code onChange}. */
    public long overflows() {
        return overflows.get();
    }

    /** Stops and joins the watcher thread and closes the watch service. Idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            stop();
        }
    }

    private void stop() {
        watching = false;
        closeService();
        Thread t = thread;
        if (t == null || t == Thread.currentThread()) {
            return; // closed from onChange: the loop sees the closed service and ends by itself
        }
        try {
            t.join(JOIN_TIMEOUT.toMillis());
            if (t.isAlive()) {
                LOG.warn("Folder '{}': the watcher thread {} did not end within {} because onChange is still running;"
                        + " it ends when onChange returns", name, t.getName(), JOIN_TIMEOUT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void closeService() {
        WatchService ws = service;
        if (ws != null) {
            try {
                ws.close();
            } catch (IOException e) {
                LOG.debug("Folder '{}': closing the watch service failed", name, e);
            }
        }
    }

    private void run() {
        long firstPending = 0;
        long lastEvent = 0;
        boolean pending = false;
        try {
            while (!closed.get()) {
                WatchKey key;
                if (pending) {
                    long now = System.nanoTime();
                    long due = Math.min(lastEvent + debounceNanos, firstPending + 5 * debounceNanos);
                    if (due - now <= 0) {
                        pending = false;
                        fire();
                        continue;
                    }
                    key = service.poll(due - now, TimeUnit.NANOSECONDS);
                } else {
                    key = service.take();
                }
                if (key == null) {
                    continue;
                }
                Outcome outcome;
                synchronized (dirs) {
                    outcome = handle(key);
                }
                if (outcome == Outcome.FAILED) {
                    scanNeeded = true;
                    fire(); // the scan must look at what the watcher can no longer see
                    return;
                }
                if (outcome == Outcome.OVERFLOW) {
                    pending = false;
                    scanNeeded = true; // events were lost
                    fire();
                } else if (outcome == Outcome.CHANGED) {
                    lastEvent = System.nanoTime();
                    if (!pending) {
                        pending = true;
                        firstPending = lastEvent;
                    }
                }
            }
        } catch (ClosedWatchServiceException e) {
            // close() ended the loop.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            watching = false;
        }
    }

    private enum Outcome { NOTHING, CHANGED, OVERFLOW, FAILED }

    private Outcome handle(WatchKey key) {
        Path dir = dirs.get(key);
        boolean changed = false;
        boolean overflow = false;
        for (WatchEvent<?> event : key.pollEvents()) {
            if (event.kind() == OVERFLOW) {
                overflow = true;
                continue;
            }
            if (dir == null) {
                continue; // a key dropped meanwhile; its directory is gone
            }
            Path child = dir.resolve((Path) event.context());
            if (child.getFileName().toString().startsWith(FolderIndex.TEMP_PREFIX)) {
                continue;
            }
            if (event.kind() == ENTRY_CREATE && Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS)) {
                if (skipDirectory.test(child)) {
                    continue;
                }
                // Files may have been created in it before it was registered; the scan that the
                // pending change leads to runs after this registration, so it sees them.
                scanNeeded = true;
                String failure = registerTree(child);
                if (failure != null) {
                    giveUp(failure);
                    closeService();
                    return Outcome.FAILED;
                }
            }
            events.incrementAndGet();
            changed = true;
            if (named.size() < MAX_TRACKED) {
                named.add(child);
            } else {
                scanNeeded = true;
            }
        }
        if (!key.reset()) {
            dirs.remove(key); // the directory vanished (or was moved out of the folder)
        }
        if (overflow) {
            overflows.incrementAndGet();
            // Lost events may have included new directories: register whatever is not yet watched.
            String failure = registerTree(root);
            if (failure != null) {
                giveUp(failure);
                closeService();
                return Outcome.FAILED;
            }
            return Outcome.OVERFLOW;
        }
        return changed ? Outcome.CHANGED : Outcome.NOTHING;
    }

    /** Registers {@code start} and every watched directory under it; returns why it failed, or null. */
    private String registerTree(Path start) {
        String[] failure = new String[1];
        try {
            Files.walkFileTree(start, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    if (!dir.equals(root) && (dir.getFileName().toString().startsWith(FolderIndex.TEMP_PREFIX)
                            || skipDirectory.test(dir))) {
                        return FileVisitResult.SKIP_SUBTREE;
                    }
                    try {
                        // Registering a directory again returns its key; a renamed directory keeps its
                        // key, so the map takes the directory's new path.
                        dirs.put(dir.register(service, ENTRY_CREATE, ENTRY_DELETE, ENTRY_MODIFY), dir);
                    } catch (NoSuchFileException e) {
                        return FileVisitResult.SKIP_SUBTREE; // vanished meanwhile: nothing to watch
                    } catch (IOException e) {
                        failure[0] = "registering " + dir + " failed (" + e.getMessage() + ")";
                        return FileVisitResult.TERMINATE;
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    if (e instanceof NoSuchFileException && !file.equals(root)) {
                        return FileVisitResult.CONTINUE;
                    }
                    failure[0] = "reading " + file + " failed (" + e + ")";
                    return FileVisitResult.TERMINATE;
                }
            });
        } catch (IOException | ClosedWatchServiceException e) {
            if (closed.get()) {
                return null; // closing meanwhile is not a failure to report
            }
            failure[0] = "walking " + start + " failed (" + e + ")";
        }
        return closed.get() ? null : failure[0];
    }

    private void giveUp(String why) {
        watching = false;
        if (warned.compareAndSet(false, true)) {
            // The JDK says "User limit of inotify watches reached" when fs.inotify.max_user_watches is hit.
            String todo = why.contains("inotify")
                    ? "raise fs.inotify.max_user_watches (sysctl) or exclude directories that need no replication"
                    : "check that the folder exists and is readable by the Tomcat user";
            LOG.warn("Folder '{}' ({}) is not watched: {}. Changes are found by the periodic scan only, so they reach"
                    + " the other mirrors up to one scan period later; to watch it, {}", name, root, why, todo);
        }
    }

    private boolean isKnown(Path file) {
        try {
            return known.test(file);
        } catch (RuntimeException e) {
            LOG.debug("Folder '{}': cannot tell whether {} is as indexed; scanning", name, file, e);
            return false;
        }
    }

    private void fire() {
        boolean scan = scanNeeded || named.stream().anyMatch(file -> !isKnown(file));
        named.clear();
        scanNeeded = false;
        if (!scan) {
            knownOnly.incrementAndGet();
            return;
        }
        try {
            onChange.run();
        } catch (RuntimeException e) {
            LOG.warn("Folder '{}': the change callback failed; the watcher goes on", name, e);
        }
    }
}
