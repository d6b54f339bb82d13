package org.activemirroring.bench;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

import com.sun.management.GarbageCollectionNotificationInfo;

/**
 * The most heap that was still in use right after a garbage collection: the live set the process
 * needed at its peak, not the garbage it had not collected yet. All mirrors of a benchmark run in
 * one process, so for one mirror this is an upper bound.
 */
final class HeapWatch implements AutoCloseable {
    private final AtomicLong peakLiveBytes = new AtomicLong();
    private final List<NotificationEmitter> emitters = new ArrayList<>();
    private final NotificationListener listener = this::onGc;

    HeapWatch() {
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc instanceof NotificationEmitter emitter) {
                emitter.addNotificationListener(listener, null, null);
                emitters.add(emitter);
            }
        }
    }

    private void onGc(Notification n, Object handback) {
        if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) {
            return;
        }
        GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
        long used = 0;
        for (Map.Entry<String, MemoryUsage> pool : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
            if (!pool.getKey().contains("Metaspace") && !pool.getKey().contains("Code")
                    && !pool.getKey().contains("Class")) {
                used += pool.getValue().getUsed();
            }
        }
        peakLiveBytes.accumulateAndGet(used, Math::max);
    }

    /** Peak live heap since start or the last reset, in MiB. */
    long peakLiveMb() {
        return peakLiveBytes.get() / (1024 * 1024);
    }

    void reset() {
        peakLiveBytes.set(0);
    }

    @Override
    public void close() throws Exception {
        for (NotificationEmitter e : emitters) {
            e.removeNotificationListener(listener);
        }
    }
}
