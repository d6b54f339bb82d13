package org.activemirroring.mirror;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import org.activemirroring.config.ConfigException;

/**
 * Runs one mirror node as its own process, without a web container:
 * {@code java -cp ... org.activemirroring.mirror.MirrorMain /path/to/mirror.properties}.
 *
 * <p>For process-level tests and benchmarks (one JVM per mirror, killed or measured on its own).
 * It prints {@code READY <node id>} once the node replicates, and stops cleanly on SIGTERM, on a
 * line {@code STOP} on standard input, or when standard input closes (the parent went away).
 * Exit codes: 0 stopped cleanly, 2 bad configuration, 3 the node could not start.
 */
public final class MirrorMain {
    private MirrorMain() {
    }

    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: MirrorMain <path to mirror.properties>");
            System.exit(2);
        }
        MirrorConfig config;
        try {
            config = MirrorConfig.load(Path.of(args[0]), System.getenv());
        } catch (ConfigException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        java.util.concurrent.atomic.AtomicReference<MirrorNode> current = new java.util.concurrent.atomic.AtomicReference<>();
        MirrorNode node;
        try {
            node = MirrorNode.start(config);
            current.set(node);
        } catch (MirrorStartException e) {
            System.err.println(e.getMessage());
            System.exit(3);
            return;
        }
        // SIGTERM: close cleanly (close is idempotent, so the normal path below may run it too).
        Runtime.getRuntime().addShutdownHook(new Thread(() -> current.get().close(), "am-main-shutdown"));
        Thread restarter = new Thread(() -> restartWhenAsked(config, current), "am-main-restarter");
        restarter.setDaemon(true);
        restarter.start();
        System.out.println("READY " + node.nodeId());
        System.out.flush();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null && !line.trim().equals("STOP")) {
                // Other lines are ignored: the protocol has one command.
            }
        } catch (IOException e) {
            // Standard input broke: treat as the parent going away.
        }
        current.get().close();
        System.exit(0);
    }

    /** A node that must copy its data again asks to be restarted: close it and start a new one. */
    private static void restartWhenAsked(MirrorConfig config, java.util.concurrent.atomic.AtomicReference<MirrorNode> current) {
        while (true) {
            try {
                Thread.sleep(1_000);
                MirrorNode n = current.get();
                if (n.restartRequested()) {
                    n.close();
                    current.set(MirrorNode.start(config));
                    System.out.println("READY " + config.nodeId());
                    System.out.flush();
                }
            } catch (InterruptedException e) {
                return;
            } catch (MirrorStartException e) {
                System.err.println(e.getMessage());
                System.exit(3);
            }
        }
    }
}
