package org.activemirroring.logging;

import java.util.Objects;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.MDC;

/**
 * Puts the mirror's id into the SLF4J MDC under {@value #MIRROR}, so that a log pattern such as
 * logback's {@code %X{mirror}} names the mirror of every line, whichever thread wrote it.
 *
 * <p>Three ways in: threads the mirror starts get it for their whole life ({@link #threads},
 * {@link #thread}); threads that belong to one mirror but are started by a library (Debezium's
 * engine threads, the JGroups channel's thread pool) get it where they first enter our code
 * ({@link #enter}, which leaves it set: the thread keeps working for the same mirror); threads
 * shared by several mirrors or by the site (a servlet container's request threads) get it for one
 * call only ({@link #scoped}).
 */
public final class LogContext {
    /** The MDC key that names the mirror of a log line. */
    public static final String MIRROR = "mirror";

    private LogContext() {
    }

    /**
     * Marks the calling thread as working for {@code mirror} from now on. For threads owned by one
     * mirror only (a library's threads entering our callbacks); cheap when already set.
     */
    public static void enter(String mirror) {
        if (!Objects.equals(MDC.get(MIRROR), mirror)) {
            MDC.put(MIRROR, mirror);
        }
    }

    /**
     * Marks the calling thread as working for {@code mirror} until the returned scope closes, which
     * puts back what was there before. For threads shared with the site or other mirrors.
     */
    public static Scope scoped(String mirror) {
        String before = MDC.get(MIRROR);
        MDC.put(MIRROR, mirror);
        return () -> {
            if (before == null) {
                MDC.remove(MIRROR);
            } else {
                MDC.put(MIRROR, before);
            }
        };
    }

    /** What {@link #scoped} returns; closing it never throws. */
    @FunctionalInterface
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    /** {@code work} run with {@code mirror} in the MDC, removed again when it ends. */
    public static Runnable wrap(String mirror, Runnable work) {
        Objects.requireNonNull(work, "work");
        return () -> {
            try (Scope ignored = scoped(mirror)) {
                work.run();
            }
        };
    }

    /**
     * A new, not yet started daemon thread named {@code name} that runs {@code work} with
     * {@code mirror} in the MDC.
     */
    public static Thread thread(String mirror, String name, Runnable work) {
        Thread t = new Thread(wrap(mirror, work), name);
        t.setDaemon(true);
        return t;
    }

    /**
     * The mirror the calling thread works for, or null; for work handed to threads whose mirror is
     * not known where they are made (it is the one of the thread that made them).
     */
    public static String current() {
        return MDC.get(MIRROR);
    }

    /**
     * A factory of daemon threads for an executor of {@code mirror}: each runs with the mirror in
     * the MDC. Threads are named {@code name}, or {@code name-1}, {@code name-2}... when
     * {@code numbered}.
     */
    public static ThreadFactory threads(String mirror, String name, boolean numbered) {
        AtomicInteger count = new AtomicInteger();
        return r -> thread(mirror, numbered ? name + "-" + count.incrementAndGet() : name, r);
    }
}
