package org.activemirroring.apply;

import org.activemirroring.transport.Envelope;

/** How the transport hands a ChangeSet to the applier, for this package's tests. */
final class TransportRetries {

    private TransportRetries() {
    }

    /** Delivers and flushes; a retriable failure is offered again (up to 3 tries), a permanent one is not. */
    static void deliver(ChangeSetApplier applier, Envelope e) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                applier.deliver(e);
                applier.flush();
                return;
            } catch (ApplyException x) {
                if (!x.isRetriable() || attempt == 3) {
                    throw x;
                }
            }
        }
    }
}
