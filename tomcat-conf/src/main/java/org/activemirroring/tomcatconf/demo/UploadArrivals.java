package org.activemirroring.tomcatconf.demo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Files appearing in the mirrors' upload folders: the first mirror to hold a file stored it (its
 * site wrote the upload), every other one received it through the replicated folder. One line
 * each, e.g. {@code mirror-2 received upload items/17/3f...png (2.1 KiB) 340 ms after mirror-1 stored it}.
 * The folders are scanned on each poll; the module's own temp files ({@code .am-tmp-*}) are skipped.
 */
final class UploadArrivals {
    private final Map<String, Path> folders;
    private final Map<String, Set<String>> known = new HashMap<>();
    private final Map<String, First> firstSeen = new HashMap<>();
    private boolean baseline;

    private record First(String mirror, long atNanos) {
    }

    /** @param folders each mirror's name and upload folder, in the order lines should name them */
    UploadArrivals(Map<String, Path> folders) {
        this.folders = folders;
        folders.keySet().forEach(m -> known.put(m, new HashSet<>()));
    }

    /** New files since the last call, as lines; the first call only notes what is there. */
    List<String> poll() {
        List<String> lines = new ArrayList<>();
        long now = System.nanoTime();
        for (Map.Entry<String, Path> e : folders.entrySet()) {
            String mirror = e.getKey();
            for (Path file : files(e.getValue())) {
                String rel = e.getValue().relativize(file).toString().replace('\\', '/');
                if (!known.get(mirror).add(rel)) {
                    continue;
                }
                First first = firstSeen.putIfAbsent(rel, new First(mirror, now));
                if (!baseline) {
                    continue;
                }
                String size = size(file);
                if (first == null) {
                    lines.add(mirror + " stored upload " + rel + " (" + size + ")");
                } else {
                    lines.add(mirror + " received upload " + rel + " (" + size + ") "
                            + (now - first.atNanos()) / 1_000_000 + " ms after " + first.mirror() + " stored it");
                }
            }
        }
        baseline = true;
        return lines;
    }

    private static List<Path> files(Path folder) {
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        try (Stream<Path> walk = Files.walk(folder)) {
            return walk.filter(Files::isRegularFile)
                    .filter(p -> !p.getFileName().toString().startsWith(".am-tmp-")
                            && !p.getFileName().toString().contains(".am-tmp-"))
                    .sorted().toList();
        } catch (NoSuchFileException | UncheckedIOException e) {
            // A file renamed or deleted while walking: the next poll sees the folder as it is then.
            return List.of();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static String size(Path file) {
        try {
            long bytes = Files.size(file);
            return bytes < 1024 ? bytes + " B" : String.format(java.util.Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        } catch (IOException e) {
            return "size unknown";
        }
    }
}
