package org.activemirroring.capture;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.LockSupport;

import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.debezium.connector.base.ChangeEventQueue;
import io.debezium.pipeline.DataChangeEvent;

/**
 * How capture takes changes from a Debezium task's queue: at once when there are some, and
 * without burning a CPU core while there are none.
 *
 * <p>Debezium's {@code ChangeEventQueue.poll()} returns only when a whole batch is there or its
 * poll interval has passed, and it waits in whole milliseconds: with less than one millisecond
 * left it loops without waiting until the clock's millisecond ticks. With the short interval
 * mirrors need for low latency (2 ms) that loop is a third of every cycle; an idle mirror spent
 * ~30% of a core in it (per-thread CPU time), and every change waited for the rest of the
 * interval. Here the task looks at the queue every {@link #STEP_NANOS} while it is empty (~3% of
 * a core idle), and takes what is there as soon as there is something, the way {@code poll()}
 * takes it (under the queue's lock, then signalling a producer waiting for room). After
 * {@link #MAX_IDLE_NANOS} of nothing it calls Debezium's own poll, which hands control back to
 * the engine and rethrows an error of the capture thread.
 *
 * <p>The queue's lock, its not-full condition and its drain method are private to Debezium; they
 * are looked up once. If a Debezium version changes them, this logs a warning and every poll is
 * Debezium's own: correct, only busier and slower. {@code QuietPollTest} fails then.
 */
public final class QuietPoll {
    private static final Logger LOG = LoggerFactory.getLogger(QuietPoll.class);
    /** How long an idle task waits before handing control back to the engine (and Debezium's poll). */
    static final long MAX_IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    /** Between two looks at an empty queue: the longest a new change waits to be noticed. */
    static final long STEP_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final int DEFAULT_BATCH = 2048;

    /** Debezium's own poll of the task, for the fallback and for idle hand-backs. */
    @FunctionalInterface
    public interface DebeziumPoll {
        List<SourceRecord> poll() throws InterruptedException;
    }

    private final Object task;
    private final Class<?> declaringClass;
    private volatile Access access;
    private volatile boolean unavailable;

    /** For {@code task}, whose class {@code declaringClass} holds the queue in a field named {@code queue}. */
    public QuietPoll(Object task, Class<?> declaringClass) {
        this.task = task;
        this.declaringClass = declaringClass;
    }

    /** The next changes: what the queue holds as soon as it holds something, else Debezium's poll after a while. */
    public List<SourceRecord> poll(DebeziumPoll debezium) throws InterruptedException {
        Access a = access();
        if (a == null) {
            return debezium.poll();
        }
        long deadline = System.nanoTime() + MAX_IDLE_NANOS;
        while (true) {
            // remainingCapacity() reads the queue's size without its lock: a stale answer costs one step.
            if (a.queue.remainingCapacity() < a.queue.totalCapacity()) {
                List<SourceRecord> records = a.drain();
                if (!records.isEmpty()) {
                    return records;
                }
            }
            if (System.nanoTime() - deadline >= 0) {
                return debezium.poll();
            }
            LockSupport.parkNanos(STEP_NANOS);
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
    }

    /** Whether changes are taken directly (false: Debezium's poll, after a warning). */
    boolean direct() {
        return access() != null;
    }

    private Access access() {
        Access a = access;
        if (a != null || unavailable) {
            return a;
        }
        try {
            Field f = declaringClass.getDeclaredField("queue");
            f.setAccessible(true);
            ChangeEventQueue<?> q = (ChangeEventQueue<?>) f.get(task);
            if (q == null) {
                return null; // the task has not started yet; asked again at the next poll
            }
            a = new Access(q);
        } catch (ReflectiveOperationException | RuntimeException e) {
            unavailable = true;
            LOG.warn("Capture takes changes through Debezium's poll, which waits out its whole interval and keeps a"
                    + " core busy when idle: this Debezium version's {} does not have what capture expects ({})",
                    declaringClass.getSimpleName(), e.toString());
            return null;
        }
        access = a;
        return a;
    }

    /** The queue's private parts that {@code ChangeEventQueue.poll()} uses to drain it. */
    private static final class Access {
        final ChangeEventQueue<?> queue;
        private final Lock lock;
        private final Condition notFull;
        private final Method drain;
        private final int batch;

        Access(ChangeEventQueue<?> queue) throws ReflectiveOperationException {
            this.queue = queue;
            this.lock = (Lock) field("lock").get(queue);
            this.notFull = (Condition) field("isNotFull").get(queue);
            this.drain = ChangeEventQueue.class.getDeclaredMethod("drainRecords", List.class, int.class);
            this.drain.setAccessible(true);
            Object max = field("maxBatchSize").get(queue);
            this.batch = max instanceof Integer i && i > 0 ? i : DEFAULT_BATCH;
        }

        private Field field(String name) throws NoSuchFieldException {
            Field f = ChangeEventQueue.class.getDeclaredField(name);
            f.setAccessible(true);
            return f;
        }

        List<SourceRecord> drain() throws InterruptedException {
            List<Object> events = new ArrayList<>();
            lock.lock();
            try {
                drain.invoke(queue, events, batch);
                notFull.signalAll();
            } catch (java.lang.reflect.InvocationTargetException e) {
                if (e.getCause() instanceof InterruptedException ie) {
                    throw ie;
                }
                throw new IllegalStateException("Debezium's change queue failed to hand over changes: " + e.getCause(),
                        e.getCause());
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("Debezium's change queue cannot be drained: " + e, e);
            } finally {
                lock.unlock();
            }
            List<SourceRecord> records = new ArrayList<>(events.size());
            for (Object e : events) {
                records.add(((DataChangeEvent) e).getRecord());
            }
            return records;
        }
    }
}
