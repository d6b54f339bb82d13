package org.activemirroring.transport;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;

/**
 * Finds TCP ports for test mirrors: port P for JGroups TCP and P+100 for FD_SOCK2 (see
 * tcp-mirror.xml) must both be free, and no mirror's P may be another's P+100.
 */
final class FreePorts {
    private static final Set<Integer> TAKEN = new HashSet<>();

    private FreePorts() {
    }

    static synchronized int next() {
        for (int attempt = 0; attempt < 200; attempt++) {
            int p = osPick();
            int fd = p + StackTemplate.FD_SOCK_OFFSET;
            if (fd > 65535 || TAKEN.contains(p) || TAKEN.contains(fd) || !isFree(fd)) {
                continue;
            }
            TAKEN.add(p);
            TAKEN.add(fd);
            return p;
        }
        throw new IllegalStateException("no free port pair (P, P+" + StackTemplate.FD_SOCK_OFFSET + ") found");
    }

    private static int osPick() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean isFree(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
