package org.activemirroring.mirror.edge;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpSession;

/**
 * Who a request comes from, for flood control: {@code user:<name>} when the site names its user
 * (the container's {@code getRemoteUser()}, or a session attribute the operator names), else
 * {@code addr:<address>}. The address is the connection's, unless the connection comes from a
 * trusted proxy: then it is the rightmost address of {@code X-Forwarded-For} that is not a trusted
 * proxy itself (addresses left of it were written by the client and prove nothing).
 */
final class ClientKeys {
    private final List<Cidr> trustedProxies;
    /** Null when no session attribute names the user. */
    private final String userSessionAttribute;

    ClientKeys(List<Cidr> trustedProxies, String userSessionAttribute) {
        this.trustedProxies = List.copyOf(trustedProxies);
        this.userSessionAttribute = userSessionAttribute;
    }

    String key(HttpServletRequest request) {
        String user = request.getRemoteUser();
        if (user == null && userSessionAttribute != null) {
            HttpSession session = request.getSession(false);
            Object named = session == null ? null : session.getAttribute(userSessionAttribute);
            user = named == null ? null : named.toString();
        }
        if (user != null && !user.isBlank()) {
            return "user:" + user;
        }
        return "addr:" + clientAddress(request.getRemoteAddr(), Collections.list(request.getHeaders("X-Forwarded-For")));
    }

    /** The client's address given the connection's address and the X-Forwarded-For header lines, in order. */
    String clientAddress(String remoteAddr, List<String> forwardedFor) {
        InetAddress remote = Cidr.literal(remoteAddr);
        if (remote == null || !trusted(remote) || forwardedFor.isEmpty()) {
            return remote == null ? remoteAddr : remote.getHostAddress();
        }
        List<String> hops = new ArrayList<>();
        for (String line : forwardedFor) {
            for (String part : line.split(",")) {
                if (!part.isBlank()) {
                    hops.add(part.trim());
                }
            }
        }
        String client = remote.getHostAddress();
        for (int i = hops.size() - 1; i >= 0; i--) {
            InetAddress hop = Cidr.literal(stripPort(hops.get(i)));
            if (hop == null) {
                break; // garbage (or "unknown"): the last trusted hop is as far as the chain is known
            }
            client = hop.getHostAddress();
            if (!trusted(hop)) {
                break;
            }
        }
        return client;
    }

    private boolean trusted(InetAddress address) {
        for (Cidr c : trustedProxies) {
            if (c.contains(address)) {
                return true;
            }
        }
        return false;
    }

    /** {@code 1.2.3.4:5678} and {@code [::1]:5678} as some proxies write them. */
    private static String stripPort(String hop) {
        if (hop.startsWith("[")) {
            int end = hop.indexOf(']');
            return end < 0 ? hop : hop.substring(1, end);
        }
        int colon = hop.indexOf(':');
        return colon > 0 && colon == hop.lastIndexOf(':') ? hop.substring(0, colon) : hop;
    }
}
