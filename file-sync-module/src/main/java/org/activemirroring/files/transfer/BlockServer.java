package org.activemirroring.files.transfer;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;

import org.activemirroring.transport.Reply;
import org.activemirroring.transport.RequestHandler;

/**
 * Answers {@value BlockWire#KIND} requests: each asked block is read from one of its
 * {@link LocalBlocks} places (positional read, never through a symlink), and sent only when its
 * SHA-256 and length still match; otherwise, or past the reply budget, it is answered "not held".
 * Register it with the peer transport under {@link BlockWire#KIND}.
 *
 * <p>Runs on transport threads and never waits for other peers. Reads at most
 * {@link BlockWire#MAX_REPLY_BYTES} per request, straight into the reply's array, which the
 * transport sends without a copy. Thread-safe.
 */
public final class BlockServer implements RequestHandler {

    private final LocalBlocks blocks;
    private final LongAdder blocksServed = new LongAdder();
    private final LongAdder bytesServed = new LongAdder();

    /** Serves blocks found through {@code blocks}; never null. */
    public BlockServer(LocalBlocks blocks) {
        this.blocks = Objects.requireNonNull(blocks, "blocks");
    }

    @Override
    public byte[] handle(String fromNode, byte[] body) throws BlockWireException {
        return reply(fromNode, body).toBytes();
    }

    /** The answer with the byte before its body free, so it goes out without a copy. */
    @Override
    public Reply reply(String fromNode, byte[] body) throws BlockWireException {
        List<BlockWire.Wanted> asked = BlockWire.decodeRequest(body);
        try (BlockReader reader = BlockReader.serving(blocks)) {
            return BlockWire.encodeReply(asked, (w, dst, offset) -> {
                if (!reader.readAny(blocks.places(w.sha256Hex()), w.sha256(), w.length(), dst, offset)) {
                    return false;
                }
                blocksServed.increment();
                bytesServed.add(w.length());
                return true;
            });
        }
    }

    /** Blocks sent to peers since this server was made. */
    public long blocksServed() {
        return blocksServed.sum();
    }

    /** Bytes of blocks sent to peers since this server was made. */
    public long bytesServed() {
        return bytesServed.sum();
    }
}
