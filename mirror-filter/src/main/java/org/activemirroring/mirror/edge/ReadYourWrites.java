package org.activemirroring.mirror.edge;

import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.activemirroring.capture.CaptureConfig;
import org.activemirroring.mirror.MirrorNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Read-your-writes across mirrors ({@link EdgeOptions#READ_YOUR_WRITES}).
 *
 * <p><b>At the mirror that took a write.</b> A request "wrote" when its method is not GET, HEAD,
 * OPTIONS or TRACE: HTTP's own line between safe and unsafe methods, known before the site runs
 * and free to check, where watching the database would cost a query on every read too. Before its
 * response's first byte, {@link CommitProbe} marks the log position {@code T} (every transaction
 * the site committed is below it) and this waits (bounded) until capture has published everything
 * below {@code T}; this mirror's journal head is then a sequence number that covers the write, and
 * goes into the cookie {@value #COOKIE} beside the heads of other mirrors the visitor wrote on.
 * The wait is capture's latency, a few milliseconds; a capture that does not get there within the
 * bound leaves the cookie as it was (counted in {@link #unstamped()}).
 *
 * <p><b>At any mirror.</b> A request whose cookie names a sequence number of another mirror that is
 * not applied here yet waits for the applier ({@link AppliedWaiter}, woken on every applied
 * change) up to {@link EdgeOptions#READ_YOUR_WRITES_MAX_WAIT_MS}, then goes on with
 * {@code X-Mirror-Stale: true}. An invalid cookie is ignored (logged at debug).
 */
public final class ReadYourWrites implements AutoCloseable {
    /** The cookie's name. */
    public static final String COOKIE = "am_ryw";
    /** Set to {@code true} on a response served before this mirror applied what the visitor's cookie asks. */
    public static final String STALE_HEADER = "X-Mirror-Stale";
    /** How long the cookie lives, in seconds: far longer than any mirror that is not broken lags. */
    static final int COOKIE_MAX_AGE_SECONDS = 600;

    private static final Logger LOG = LoggerFactory.getLogger(ReadYourWrites.class);

    private final String nodeId;
    private final long maxWaitMs;
    private final CommitProbe probe;
    private final AtomicLong waited = new AtomicLong();
    private final AtomicLong stale = new AtomicLong();
    private final AtomicLong unstamped = new AtomicLong();
    private volatile MirrorNode attached;
    private volatile AppliedWaiter waiter;
    private final Runnable wake = this::wake;

    public ReadYourWrites(CaptureConfig capture, String nodeId, long maxWaitMs) {
        this.nodeId = nodeId;
        this.maxWaitMs = maxWaitMs;
        this.probe = new CommitProbe(capture, nodeId);
    }

    private void wake() {
        AppliedWaiter w = waiter;
        if (w != null) {
            w.progressed();
        }
    }

    /** The waiter of {@code node}, attached to its applier the first time (and again after a restart). */
    private AppliedWaiter waiterOf(MirrorNode node) {
        if (attached != node) {
            synchronized (this) {
                if (attached != node) {
                    if (attached != null) {
                        attached.removeApplyProgress(wake);
                    }
                    waiter = new AppliedWaiter(node::applied);
                    node.onApplyProgress(wake);
                    attached = node;
                }
            }
        }
        return waiter;
    }

    /**
     * Holds the request until this mirror applied what its cookie asks, at most the configured
     * time; marks the response stale when it did not get there.
     */
    void awaitToken(HttpServletRequest request, HttpServletResponse response, MirrorNode node)
            throws InterruptedException {
        RywToken token = tokenOf(request);
        if (token == null) {
            return;
        }
        Map<String, Long> need = new LinkedHashMap<>(token.seqs());
        need.remove(nodeId); // this mirror's own writes are here
        if (need.isEmpty()) {
            return;
        }
        AppliedWaiter w = waiterOf(node);
        if (w.satisfied(need)) {
            return;
        }
        waited.incrementAndGet();
        if (!w.await(need, maxWaitMs)) {
            stale.incrementAndGet();
            response.setHeader(STALE_HEADER, "true");
        }
    }

    /** The request's valid token, or null. */
    static RywToken tokenOf(HttpServletRequest request) {
        // Most requests carry no token: a look at the raw headers spares parsing every cookie.
        if (!hasCookieNamed(request, COOKIE)) {
            return null;
        }
        Cookie[] cookies = request.getCookies();
        if (cookies == null) {
            return null;
        }
        for (Cookie c : cookies) {
            if (COOKIE.equals(c.getName())) {
                RywToken t = RywToken.parse(c.getValue());
                if (t == null) {
                    LOG.debug("Ignoring an invalid {} cookie ({} characters) from {}", COOKIE,
                            c.getValue() == null ? 0 : c.getValue().length(), request.getRemoteAddr());
                }
                return t;
            }
        }
        return null;
    }

    /** Whether a Cookie header mentions {@code name} at all (a cheap pre-check, never a false negative). */
    private static boolean hasCookieNamed(HttpServletRequest request, String name) {
        java.util.Enumeration<String> headers = request.getHeaders("Cookie");
        while (headers != null && headers.hasMoreElements()) {
            String h = headers.nextElement();
            if (h != null && h.contains(name)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Sets the cookie on a write's response: waits until capture published what the site committed,
     * then adds this mirror's journal head to the visitor's token. Never throws: without a token
     * the visitor only loses the guarantee, not the page.
     */
    void stamp(HttpServletRequest request, HttpServletResponse response, MirrorNode node) {
        try {
            long lsn = probe.mark(maxWaitMs);
            if (lsn < 0 || !node.awaitCaptured(lsn, maxWaitMs)) {
                unstamped.incrementAndGet();
                LOG.debug("Mirror '{}': capture did not publish up to log position {} within {} ms; the response"
                        + " carries no read-your-writes token for it", nodeId, lsn, maxWaitMs);
                return;
            }
        } catch (SQLException e) {
            unstamped.incrementAndGet();
            LOG.debug("Mirror '{}': cannot mark the log position for read-your-writes: {}", nodeId, e.toString());
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        long head = node.ownJournalHead();
        if (head <= 0) {
            return; // nothing of this mirror was ever published: nothing to wait for elsewhere
        }
        RywToken had = tokenOf(request);
        RywToken next = (had == null ? RywToken.empty() : had).with(nodeId, head);
        Cookie cookie = new Cookie(COOKIE, next.format());
        String ctx = request.getContextPath();
        cookie.setPath(ctx == null || ctx.isEmpty() ? "/" : ctx);
        cookie.setHttpOnly(true);
        cookie.setMaxAge(COOKIE_MAX_AGE_SECONDS);
        cookie.setAttribute("SameSite", "Lax");
        response.addCookie(cookie);
    }

    /** Requests that waited for this mirror to apply what their cookie asked. */
    public long waited() {
        return waited.get();
    }

    /** Of those, how many were served stale after the wait. */
    public long stale() {
        return stale.get();
    }

    /** Write responses that got no token because capture did not publish within the bound. */
    public long unstamped() {
        return unstamped.get();
    }

    @Override
    public void close() {
        MirrorNode n = attached;
        if (n != null) {
            n.removeApplyProgress(wake);
        }
        probe.close();
    }
}
