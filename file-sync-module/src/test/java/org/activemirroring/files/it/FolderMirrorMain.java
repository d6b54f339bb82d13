package org.activemirroring.files.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

import org.activemirroring.files.sync.FileSyncOptions;
import org.activemirroring.files.sync.FileSyncStatus;

/**
 * One {@link FolderMirror} in a JVM of its own, for tests that kill a mirror's process
 * ({@link KillMidTransferIT}). It writes its status to a file every 100 ms (written aside and
 * renamed, so a reader never sees half a line) and exits when its standard input closes, so it
 * does not outlive the test JVM.
 *
 * <p>Arguments: {@code <id> <base dir> <port> <all ports, comma-separated> <cluster> <status file>}.
 * Status line: {@code synced=<bool> settled=<bool> bytesFetched=<n> files=<n>}.
 */
public final class FolderMirrorMain {
    private FolderMirrorMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 6) {
            throw new IllegalArgumentException("Arguments: <id> <base dir> <port> <all ports> <cluster> <status file>,"
                    + " not " + List.of(args));
        }
        List<Integer> ports = new ArrayList<>();
        for (String p : args[3].split(",")) {
            ports.add(Integer.parseInt(p));
        }
        Path status = Path.of(args[5]);
        FolderMirror m = FolderMirror.start(
                FolderMirror.settings(args[0], Path.of(args[1]), Integer.parseInt(args[2]), ports, args[4]),
                FileSyncOptions.defaults().withScanIntervalMs(2_000));
        Thread stdin = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // the test JVM writes nothing; end of input means it is gone
                }
            } catch (IOException e) {
                // gone as well
            }
            m.close();
            System.exit(0);
        }, "stdin-watch");
        stdin.setDaemon(true);
        stdin.start();
        while (true) {
            writeStatus(status, m.files.status());
            LockSupport.parkNanos(100_000_000L); // the reporting period, not a wait for replication
        }
    }

    private static void writeStatus(Path file, FileSyncStatus s) throws IOException {
        String line = "synced=" + s.folders().stream().allMatch(FileSyncStatus.Folder::synced) + " settled="
                + s.settled() + " bytesFetched=" + s.bytesFetched() + " files=" + s.folders().get(0).files() + "\n";
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, line, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
