package org.activemirroring.files;

import java.io.IOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.activemirroring.logging.LogContext;

/**
 * The reads of one scan, on up to one thread per core beside the walk. The walk shares out a
 * folder's top-level directories, so a folder whose files sit in one directory (a typical
 * {@code uploads/}) was read on one core however many it had; here each file to hash is its own
 * task. The queue holds two tasks per thread; when it is full the walking thread reads the file
 * itself, so a walk never runs far ahead of the reads and memory stays bounded.
 *
 * <p>The first {@link IOException} or runtime exception of a task is kept and thrown by
 * {@link #finish()}, as the walk would have thrown it; tasks not yet started are then skipped (the
 * scan fails as a whole and is retried, as when the walk failed). Threads are made on the first
 * {@link #submit} and stopped by {@link #finish()}, so a scan with nothing to read starts none.
 * One instance per scan; not reusable.
 */
final class ScanHashing {

    /** A read of one file. */
    @FunctionalInterface
    interface Read {
        void run() throws IOException;
    }

    private final int threads;
    private final String name;
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private ThreadPoolExecutor pool;

    /** Up to {@code threads} threads named {@code name}-hash-N. */
    ScanHashing(int threads, String name) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, not " + threads);
        }
        this.threads = threads;
        this.name = name;
    }

    /** Runs {@code read} on a pool thread, or on this one when the pool is busy and its queue full. */
    void submit(Read read) {
        Runnable task = () -> {
            if (failure.get() != null) {
                return;
            }
            try {
                read.run();
            } catch (IOException | RuntimeException e) {
                failure.compareAndSet(null, e);
            }
        };
        if (threads == 1) {
            task.run();
            return;
        }
        executor().execute(task);
    }

    /** Waits for every submitted read; throws the first failure. */
    void finish() throws IOException {
        ThreadPoolExecutor p;
        synchronized (this) {
            p = pool;
        }
        if (p != null) {
            p.shutdown();
            try {
                while (!p.awaitTermination(1, TimeUnit.SECONDS)) {
                    // Large files take as long as they take; the scan has no deadline of its own.
                }
            } catch (InterruptedException e) {
                p.shutdownNow();
                Thread.currentThread().interrupt();
                throw new IOException("Interrupted while the scan's files were read", e);
            }
        }
        Exception e = failure.get();
        if (e instanceof IOException io) {
            throw io;
        }
        if (e != null) {
            throw (RuntimeException) e;
        }
    }

    private synchronized ThreadPoolExecutor executor() {
        if (pool == null) {
            pool = new ThreadPoolExecutor(threads, threads, 1, TimeUnit.SECONDS, new ArrayBlockingQueue<>(2 * threads),
                    LogContext.threads(LogContext.current(), name + "-hash", true), new ThreadPoolExecutor.CallerRunsPolicy());
        }
        return pool;
    }
}
