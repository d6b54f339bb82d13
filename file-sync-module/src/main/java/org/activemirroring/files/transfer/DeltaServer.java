package org.activemirroring.files.transfer;

import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;

import org.activemirroring.transport.RequestHandler;

/**
 * Answers {@value DeltaWire#KIND} requests: reads the wanted blocks from their {@link LocalBlocks}
 * places (each checked against its SHA-256, as {@link BlockServer} does), one after the other, and
 * answers with the {@link RollingDelta} op stream that builds them out of the asker's base. When
 * any wanted block is not held here, it answers {@value DeltaWire#NOT_HELD} and the asker goes on
 * elsewhere. Reads at most {@value DeltaWire#MAX_TARGET_BYTES} per request. Register it with the
 * peer transport under {@link DeltaWire#KIND}. Thread-safe.
 */
public final class DeltaServer implements RequestHandler {

    private final LocalBlocks blocks;
    private final LongAdder answered = new LongAdder();
    private final LongAdder bytesSent = new LongAdder();

    /** Serves deltas of blocks found through {@code blocks}; never null. */
    public DeltaServer(LocalBlocks blocks) {
        this.blocks = Objects.requireNonNull(blocks, "blocks");
    }

    @Override
    public byte[] handle(String fromNode, byte[] body) throws BlockWireException {
        DeltaWire.Request request = DeltaWire.decodeRequest(body);
        byte[] target = new byte[request.targetLength()];
        try (BlockReader reader = BlockReader.serving(blocks)) {
            int at = 0;
            for (BlockWire.Wanted w : request.wanted()) {
                if (!reader.readAny(blocks.places(w.sha256Hex()), w.sha256(), w.length(), target, at)) {
                    return new byte[] {DeltaWire.NOT_HELD};
                }
                at += w.length();
            }
        }
        byte[] ops = RollingDelta.diff(target, 0, target.length, request.base());
        byte[] out = new byte[1 + ops.length];
        out[0] = DeltaWire.OPS;
        System.arraycopy(ops, 0, out, 1, ops.length);
        answered.increment();
        bytesSent.add(out.length);
        return out;
    }

    /** Requests answered with an op stream since this server was made. */
    public long answered() {
        return answered.sum();
    }

    /** Bytes of those answers. */
    public long bytesSent() {
        return bytesSent.sum();
    }
}
