package org.activemirroring.transport;

import java.util.List;
import java.util.Map;

import org.jgroups.Address;
import org.jgroups.Message;
import org.jgroups.util.NameCache;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything that arrives from the network, on JGroups threads: envelopes are decoded and queued
 * for the delivery thread; requests are answered from the journal ({@code transport.heads},
 * {@code transport.fetch}) or by the application's {@link RequestHandler}s.
 *
 * <p>Never blocks on the application's delivery and never throws into JGroups: bad input is
 * dropped, counted ({@code invalidDropped}) and logged with its sender; a request that cannot be
 * served gets an error answer so the requester does not wait for its timeout.
 */
final class InboundMessages implements org.jgroups.blocks.RequestHandler {

    private static final Logger LOG = LoggerFactory.getLogger(InboundMessages.class);

    /** Largest fetch answer, in envelopes and in payload bytes, so one answer cannot swamp the requester. */
    static final int MAX_FETCH_COUNT = 1000;
    static final long MAX_FETCH_BYTES = 4L * 1024 * 1024;

    private final String self;
    private final Journal journal;
    /** Null until the transport starts delivering ({@link JGroupsPeerTransport#connect} before start). */
    private final java.util.function.Supplier<DeliveryPipeline> pipeline;
    private final Map<String, RequestHandler> handlers;
    private final TransportCounters counters;

    InboundMessages(String self, Journal journal, java.util.function.Supplier<DeliveryPipeline> pipeline,
                    Map<String, RequestHandler> handlers,
                    TransportCounters counters) {
        this.self = self;
        this.journal = journal;
        this.pipeline = pipeline;
        this.handlers = handlers;
        this.counters = counters;
    }

    @Override
    public Object handle(Message msg) {
        org.activemirroring.logging.LogContext.enter(self); // a JGroups thread of this mirror's channel
        String from = nodeId(msg.getSrc());
        try {
            byte[] buf = msg.getArray();
            int off = msg.getOffset();
            int len = msg.getLength();
            if (buf == null || len < 1) {
                throw new IllegalArgumentException("empty message");
            }
            switch (buf[off]) {
                case WireFormat.ENVELOPE -> {
                    Envelope e = EnvelopeCodec.decode(buf, off + 1, len - 1);
                    DeliveryPipeline p = pipeline.get();
                    if (p != null) {
                        p.offer(e, from);
                    }
                    // else: connected but not delivering yet (a join in progress); catch-up fetches
                    // it from a journal once delivery starts
                    return null;
                }
                case WireFormat.REQUEST -> {
                    return serve(from, WireFormat.decodeRequest(buf, off, len));
                }
                default -> throw new IllegalArgumentException("unknown message kind " + buf[off]);
            }
        } catch (RuntimeException e) {
            counters.invalidDropped.incrementAndGet();
            LOG.warn("Dropped an invalid message from {}: {}", from, e.getMessage());
            return WireFormat.error("invalid message: " + e.getMessage());
        }
    }

    private Object serve(String from, WireFormat.Request r) {
        try {
            switch (r.kind()) {
                case WireFormat.HEADS:
                    return WireFormat.ok(WireFormat.heads(journal.heads()));
                case WireFormat.FIRSTS:
                    return WireFormat.ok(WireFormat.heads(journal.firsts()));
                case WireFormat.FETCH: {
                    WireFormat.Fetch f = WireFormat.decodeFetch(r.body());
                    List<Envelope> list = journal.read(f.origin(), f.fromSeq(), Math.min(f.maxCount(), MAX_FETCH_COUNT),
                            MAX_FETCH_BYTES);
                    return WireFormat.ok(WireFormat.envelopes(list));
                }
                default: {
                    RequestHandler h = handlers.get(r.kind());
                    if (h == null) {
                        return WireFormat.error("mirror " + self + " has no handler for request kind '" + r.kind() + "'");
                    }
                    return WireFormat.ok(h.reply(from, r.body()));
                }
            }
        } catch (IllegalArgumentException e) {
            counters.invalidDropped.incrementAndGet();
            LOG.warn("Refused a malformed '{}' request from {}: {}", r.kind(), from, e.getMessage());
            return WireFormat.error("malformed request: " + e.getMessage());
        } catch (Exception e) {
            LOG.debug("Request '{}' from {} failed", r.kind(), from, e);
            return WireFormat.error(e.toString());
        }
    }

    /** A member's node id: its JGroups logical name (set with {@code channel.name}). */
    static String nodeId(Address a) {
        if (a == null) {
            return "unknown";
        }
        String name = NameCache.get(a);
        return name != null ? name : a.toString();
    }
}
