package org.activemirroring.testsupport.tomcat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * The TCP sockets a process listens on, read from Linux's {@code /proc} (its file descriptors'
 * socket inodes matched against {@code /proc/<pid>/net/tcp} and {@code tcp6}), so a test can
 * check that a Tomcat with the plugin listens on 127.0.0.1 only.
 */
public final class ListeningSockets {
    private static final String LISTEN = "0A";

    private ListeningSockets() {
    }

    /** Every address and port {@code pid} listens on. */
    public static List<InetSocketAddress> of(long pid) {
        Path proc = Path.of("/proc", Long.toString(pid));
        Set<String> inodes = new HashSet<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve("fd"))) {
            for (Path fd : fds) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(target.substring(8, target.length() - 1));
                    }
                } catch (IOException e) {
                    // closed meanwhile
                }
            }
            List<InetSocketAddress> out = new ArrayList<>();
            for (String table : List.of("tcp", "tcp6")) {
                List<String> lines = Files.readAllLines(proc.resolve("net").resolve(table));
                for (String line : lines.subList(1, lines.size())) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length > 9 && LISTEN.equals(f[3]) && inodes.contains(f[9])) {
                        out.add(address(f[1]));
                    }
                }
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("Cannot read the sockets of process " + pid + " from /proc (Linux only): " + e, e);
        }
    }

    /** {@code 0100007F:1F90} (address bytes in host order per 32-bit word) to 127.0.0.1:8080. */
    static InetSocketAddress address(String hex) throws UnknownHostException {
        String[] parts = hex.split(":");
        byte[] raw = HexFormat.of().parseHex(parts[0]);
        byte[] addr = new byte[raw.length];
        for (int word = 0; word < raw.length; word += 4) {
            for (int i = 0; i < 4; i++) {
                addr[word + i] = raw[word + 3 - i];
            }
        }
        return new InetSocketAddress(InetAddress.getByAddress(addr), Integer.parseInt(parts[1], 16));
    }
}
