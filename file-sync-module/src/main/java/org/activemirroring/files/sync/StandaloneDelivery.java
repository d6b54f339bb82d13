package org.activemirroring.files.sync;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.activemirroring.transport.DeliveryHandler;
import org.activemirroring.transport.Envelope;
import org.activemirroring.transport.PayloadReceiver;

/**
 * The delivery handler of a mirror without a database (a folder-only node: tools, benchmarks):
 * hands each envelope to the receiver of its payload type and keeps the applied vector in a file
 * of its own ({@code applied.vector} in the data directory), written after the receivers made
 * what they took durable, so each envelope is applied exactly once across crashes. A mirror with a
 * database records the vector there instead, beside its rows (the applier does this).
 */
public final class StandaloneDelivery implements DeliveryHandler {
    private final Path file;
    private final Map<String, PayloadReceiver> receivers = new HashMap<>();
    private final Map<String, Long> applied = new TreeMap<>();
    private final Map<String, Long> pending = new TreeMap<>();

    public StandaloneDelivery(Path dataDir, List<PayloadReceiver> receivers) throws IOException {
        this.file = dataDir.resolve("applied.vector");
        receivers.forEach(r -> this.receivers.put(r.payloadType(), r));
        if (Files.exists(file)) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                int eq = line.lastIndexOf('=');
                if (eq > 0) {
                    applied.put(line.substring(0, eq), Long.parseLong(line.substring(eq + 1)));
                }
            }
        }
    }

    /** The applied vector as committed: where the transport resumes. */
    public synchronized Map<String, Long> applied() {
        return Map.copyOf(applied);
    }

    @Override
    public synchronized void deliver(Envelope envelope) throws Exception {
        long have = Math.max(applied.getOrDefault(envelope.origin(), 0L), pending.getOrDefault(envelope.origin(), 0L));
        if (envelope.seq() <= have) {
            return;
        }
        PayloadReceiver r = receivers.get(envelope.payloadType());
        if (r != null) {
            r.receive(envelope);
        }
        pending.put(envelope.origin(), envelope.seq());
    }

    @Override
    public synchronized void flush() throws Exception {
        if (pending.isEmpty()) {
            return;
        }
        for (PayloadReceiver r : receivers.values()) {
            r.prepareCommit();
        }
        Map<String, Long> next = new TreeMap<>(applied);
        next.putAll(pending);
        StringBuilder sb = new StringBuilder();
        next.forEach((o, s) -> sb.append(o).append('=').append(s).append('\n'));
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(java.nio.ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8)));
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        applied.putAll(pending);
        pending.clear();
    }

    @Override
    public synchronized Map<String, Long> restartFrom() {
        pending.clear();
        return Map.copyOf(applied);
    }
}
