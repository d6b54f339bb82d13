package org.activemirroring.tomcatconf.e2e;

import java.util.ArrayList;
import java.util.List;

import org.activemirroring.tomcatconf.MirrorTomcat;

/** Stops every mirror's Tomcat, all at once (each stop may take seconds), reporting what failed. */
final class MirrorCloser {
    private MirrorCloser() {
    }

    static void closeAll(List<MirrorTomcat> mirrors) throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        List<RuntimeException> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        for (MirrorTomcat m : mirrors) {
            Thread t = new Thread(() -> {
                try {
                    m.close();
                } catch (RuntimeException e) {
                    failures.add(e);
                }
            }, "stop-" + m.tomcat().name());
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            t.join();
        }
        if (!failures.isEmpty()) {
            RuntimeException e = new IllegalStateException("Stopping " + failures.size() + " Tomcat(s) failed");
            failures.forEach(e::addSuppressed);
            throw e;
        }
    }
}
