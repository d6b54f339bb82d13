package org.activemirroring.files.sync;

import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import org.activemirroring.files.FolderConfig;
import org.activemirroring.transport.DeliveryHandler;
import org.activemirroring.transport.JGroupsPeerTransport;
import org.activemirroring.transport.TransportConfig;

/**
 * A mirror of folders only, without a database: its transport, its {@link FileSync} and a
 * {@link StandaloneDelivery} that keeps the applied vector, started in the order that loses
 * nothing and stopped in reverse. For tools, tests and benchmarks (and a seam for an end user's
 * folder-sync client); a mirror of a site runs the same pieces inside its node.
 */
public final class StandaloneNode implements AutoCloseable {
    private final JGroupsPeerTransport transport;
    private final FileSync files;
    private final StandaloneDelivery delivery;

    private StandaloneNode(JGroupsPeerTransport transport, FileSync files, StandaloneDelivery delivery) {
        this.transport = transport;
        this.files = files;
        this.delivery = delivery;
    }

    /**
     * Starts a node; stops what it started if a part fails.
     *
     * @param wrap what stands between the transport and the delivery (a test holding delivery back);
     *             {@code UnaryOperator.identity()} for none
     */
    public static StandaloneNode start(TransportConfig transportConfig, FolderConfig folders, FileSyncOptions options,
                                       UnaryOperator<DeliveryHandler> wrap) throws Exception {
        JGroupsPeerTransport t = new JGroupsPeerTransport(transportConfig);
        FileSync[] files = new FileSync[1];
        StandaloneDelivery[] delivery = new StandaloneDelivery[1];
        try {
            // FileSync asks for the applied vector only once delivery runs; until then it is empty.
            files[0] = FileSync.create(folders, transportConfig.dataDir(), transportConfig.nodeId(), t,
                    () -> delivery[0] == null ? Map.of() : delivery[0].applied(), options);
            delivery[0] = new StandaloneDelivery(transportConfig.dataDir(), List.of(files[0].receiver()));
            t.start(wrap.apply(delivery[0]), delivery[0].applied());
            files[0].start();
        } catch (Exception | Error e) {
            if (files[0] != null) {
                files[0].close();
            }
            t.close();
            throw e;
        }
        return new StandaloneNode(t, files[0], delivery[0]);
    }

    public JGroupsPeerTransport transport() {
        return transport;
    }

    public FileSync files() {
        return files;
    }

    public StandaloneDelivery delivery() {
        return delivery;
    }

    /** Stops the folders, then the transport. */
    @Override
    public void close() {
        try {
            files.close();
        } finally {
            transport.close();
        }
    }
}
