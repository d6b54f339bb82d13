package org.activemirroring.mirror.edge;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.activemirroring.config.ConfigException;
import org.activemirroring.config.ConfigOption;
import org.activemirroring.config.Importance;

/**
 * The options of read-your-writes, forwarding while not ready and flood control, checked with the
 * rest of {@code mirror.properties} ({@code MirrorConfig} calls {@link #from}). The defaults never
 * bother a normal visitor: read-your-writes on, forwarding off, flood limits far above what a
 * person clicks.
 */
public record EdgeOptions(boolean readYourWrites, int readYourWritesMaxWaitMs, boolean forwardUnready,
                          List<URI> peerUrls, int forwardTimeoutMs, boolean flood, int floodWritesPerSecond,
                          int floodWritesBurst, int floodUploadMibPerMinute, List<Cidr> trustedProxies,
                          String userSessionAttribute, int floodMaxClients) {

    public static final ConfigOption<Boolean> READ_YOUR_WRITES = ConfigOption.bool("mirror.read-your-writes.enabled",
            true, Importance.FREQUENT, "After a request that may have written (any method but GET, HEAD, OPTIONS and"
                    + " TRACE), the response carries the cookie am_ryw: how far this mirror had published its changes."
                    + " A mirror that gets a request with that cookie before it applied that far holds the request"
                    + " (up to mirror.read-your-writes.max-wait-ms), so a visitor whom a load balancer sends to another"
                    + " mirror sees their own write. Needs capture heartbeats (mirror.capture.heartbeat.interval.ms > 0).");

    public static final ConfigOption<Integer> READ_YOUR_WRITES_MAX_WAIT_MS = ConfigOption.integer(
            "mirror.read-your-writes.max-wait-ms", 2000, 0, 60_000, Importance.FREQUENT,
            "How long a mirror holds a request whose am_ryw cookie names changes it has not applied yet; after it,"
                    + " the request is served anyway with the header X-Mirror-Stale: true. Also how long a write's"
                    + " response waits for capture to publish the write (normally a few milliseconds).");

    public static final ConfigOption<Boolean> FORWARD_UNREADY = ConfigOption.bool("mirror.unready.forward", false,
            Importance.FREQUENT, "While this mirror is not ready (joining, catching up), forward site requests to a"
                    + " ready peer of mirror.peer.urls and answer with its response, instead of 503 with Retry-After."
                    + " A request is forwarded at most once; with no ready peer it gets the 503.");

    public static final ConfigOption<String> PEER_URLS = ConfigOption.string("mirror.peer.urls", "",
            Importance.FREQUENT, "The peers' HTTP base URLs, comma-separated (http://10.0.0.2:8080,https://m3.example.org),"
                    + " scheme, host and port only: the request's own path (with the site's context path) is appended."
                    + " Used by mirror.unready.forward.")
            .check(v -> problemsOfUrls(v).isEmpty(), "http:// or https:// URLs with a host and no path, query or"
                    + " user info, comma-separated");

    public static final ConfigOption<Integer> FORWARD_TIMEOUT_MS = ConfigOption.integer(
            "mirror.unready.forward.timeout-ms", 30_000, 100, 600_000, Importance.RARE,
            "How long a forwarded request may take at the peer until its response starts; past it the visitor gets 504.");

    public static final ConfigOption<Boolean> FLOOD = ConfigOption.bool("mirror.flood.enabled", true,
            Importance.FREQUENT, "Per-client limits on write requests and uploaded bytes (429 with Retry-After past"
                    + " them). A client is the site's user when the container knows it (request.getRemoteUser()) or"
                    + " the session names it (mirror.flood.user-session-attribute), else its address.");

    public static final ConfigOption<Integer> FLOOD_WRITES_PER_SECOND = ConfigOption.integer(
            "mirror.flood.writes-per-second", 10, 1, 1_000_000, Importance.RARE,
            "Write requests (methods other than GET, HEAD, OPTIONS, TRACE) a client may make per second, sustained.");

    public static final ConfigOption<Integer> FLOOD_WRITES_BURST = ConfigOption.integer("mirror.flood.writes-burst",
            50, 1, 10_000_000, Importance.RARE,
            "Write requests a client may make at once before mirror.flood.writes-per-second applies.");

    public static final ConfigOption<Integer> FLOOD_UPLOAD_MIB_PER_MINUTE = ConfigOption.integer(
            "mirror.flood.upload-mib-per-minute", 50, 1, 1_000_000, Importance.RARE,
            "MiB of request bodies a client may send per minute in write requests (also the burst). One upload larger"
                    + " than that passes when the client's allowance is full, and uses all of it.");

    public static final ConfigOption<String> FLOOD_TRUSTED_PROXIES = ConfigOption.string(
            "mirror.flood.trusted-proxies", "", Importance.FREQUENT,
            "Addresses of the load balancers and proxies in front of this mirror, as CIDRs (10.0.0.0/8,"
                    + " 192.168.1.7, ::1/128), comma-separated. Only a request from one of them has its"
                    + " X-Forwarded-For believed: the client is the rightmost address there that is not a trusted proxy."
                    + " Empty: the connection's own address is the client.")
            .check(v -> Cidr.problemsOf(v).isEmpty(), "IPv4 or IPv6 addresses or CIDRs (address/bits), comma-separated");

    public static final ConfigOption<String> FLOOD_USER_SESSION_ATTRIBUTE = ConfigOption.string(
            "mirror.flood.user-session-attribute", "", Importance.RARE,
            "Name of the HTTP session attribute in which the site keeps its logged-in user (any object; its"
                    + " toString() is the key): such a user is limited as one client from any address. Empty: only"
                    + " request.getRemoteUser() names users.");

    public static final ConfigOption<Integer> FLOOD_MAX_CLIENTS = ConfigOption.integer("mirror.flood.max-clients",
            100_000, 100, 10_000_000, Importance.RARE,
            "How many clients' limits are kept at most (about 300 bytes each). A client idle long enough for its"
                    + " allowance to refill is forgotten at no cost; past this many active clients the oldest start over.");

    /** In documentation order. */
    public static final List<ConfigOption<?>> OPTIONS = List.of(READ_YOUR_WRITES, READ_YOUR_WRITES_MAX_WAIT_MS,
            FORWARD_UNREADY, PEER_URLS, FORWARD_TIMEOUT_MS, FLOOD, FLOOD_TRUSTED_PROXIES, FLOOD_WRITES_PER_SECOND,
            FLOOD_WRITES_BURST, FLOOD_UPLOAD_MIB_PER_MINUTE, FLOOD_USER_SESSION_ATTRIBUTE, FLOOD_MAX_CLIENTS);

    public EdgeOptions {
        peerUrls = List.copyOf(peerUrls);
        trustedProxies = List.copyOf(trustedProxies);
    }

    /** Reads and checks the options, adding every problem to {@code problems}; null if there was one. */
    public static EdgeOptions from(Map<String, String> raw, List<String> problems) {
        int before = problems.size();
        boolean ryw = READ_YOUR_WRITES.read(raw, problems);
        int rywWait = READ_YOUR_WRITES_MAX_WAIT_MS.read(raw, problems);
        boolean forward = FORWARD_UNREADY.read(raw, problems);
        String urls = PEER_URLS.read(raw, problems);
        int forwardTimeout = FORWARD_TIMEOUT_MS.read(raw, problems);
        boolean flood = FLOOD.read(raw, problems);
        int perSecond = FLOOD_WRITES_PER_SECOND.read(raw, problems);
        int burst = FLOOD_WRITES_BURST.read(raw, problems);
        int mib = FLOOD_UPLOAD_MIB_PER_MINUTE.read(raw, problems);
        String proxies = FLOOD_TRUSTED_PROXIES.read(raw, problems);
        String attribute = FLOOD_USER_SESSION_ATTRIBUTE.read(raw, problems);
        int maxClients = FLOOD_MAX_CLIENTS.read(raw, problems);
        if (problems.size() > before) {
            return null;
        }
        List<URI> peers = ConfigOption.splitCommaList(urls).stream()
                .map(u -> URI.create(u.endsWith("/") ? u.substring(0, u.length() - 1) : u)).toList();
        if (forward && peers.isEmpty()) {
            problems.add("'" + FORWARD_UNREADY.key() + "=true' needs the peers' addresses: set '" + PEER_URLS.key()
                    + "' to their HTTP base URLs (e.g. http://10.0.0.2:8080), or set " + FORWARD_UNREADY.key() + "=false.");
            return null;
        }
        if (burst < perSecond) {
            problems.add("Invalid value '" + burst + "' for '" + FLOOD_WRITES_BURST.key() + "': it is smaller than '"
                    + FLOOD_WRITES_PER_SECOND.key() + "' (" + perSecond + "), so a client could never use a whole"
                    + " second's allowance; make the burst at least as large.");
            return null;
        }
        List<Cidr> trusted = ConfigOption.splitCommaList(proxies).stream().map(Cidr::parse).toList();
        return new EdgeOptions(ryw, rywWait, forward, peers, forwardTimeout, flood, perSecond, burst, mib, trusted,
                attribute.isBlank() ? null : attribute.trim(), maxClients);
    }

    /** The options of a configuration already checked by {@code MirrorConfig}. */
    public static EdgeOptions of(Map<String, String> checkedRaw) {
        List<String> problems = new ArrayList<>();
        EdgeOptions o = from(checkedRaw, problems);
        if (o == null) {
            throw new ConfigException(problems);
        }
        return o;
    }

    /** What is wrong with a comma-separated list of peer base URLs; empty when nothing is. */
    static List<String> problemsOfUrls(String value) {
        List<String> problems = new ArrayList<>();
        for (String s : ConfigOption.splitCommaList(value)) {
            try {
                URI u = new URI(s);
                boolean ok = ("http".equals(u.getScheme()) || "https".equals(u.getScheme())) && u.getHost() != null
                        && u.getUserInfo() == null && u.getQuery() == null && u.getFragment() == null
                        && (u.getPath() == null || u.getPath().isEmpty() || u.getPath().equals("/"));
                if (!ok) {
                    problems.add(s);
                }
            } catch (java.net.URISyntaxException e) {
                problems.add(s);
            }
        }
        return problems;
    }
}
