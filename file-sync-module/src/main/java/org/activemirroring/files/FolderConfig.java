package org.activemirroring.files;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

import org.activemirroring.config.ConfigException;
import org.activemirroring.config.ConfigOption;
import org.activemirroring.config.Importance;

/**
 * The replicated folders of one mirror, read from its settings ({@code mirror.properties}) and
 * validated once: every problem is collected into one {@link ConfigException}. Immutable.
 *
 * <p>{@code mirror.folders=uploads,avatars} names the folders; per folder
 * {@code mirror.folder.<name>.path} (required; relative paths are relative to the base directory
 * the caller gives), {@code .include} and {@code .exclude} (comma-separated globs, see
 * {@link FolderFilter}) and {@code .max-file-bytes}. The same name on every mirror is the same
 * replicated folder.
 */
public final class FolderConfig {

    private static final Pattern NAME = Pattern.compile("[a-z0-9_-]{1,64}");
    static final String PREFIX = "mirror.folder.";

    public static final ConfigOption<String> FOLDERS = ConfigOption.string("mirror.folders", "",
            Importance.ESSENTIAL,
            "Comma-separated names of the replicated folders ([a-z0-9_-]); the same name on every mirror is the same folder.");

    /** Per-folder options; {@code <name>} stands for the folder name. */
    public static final ConfigOption<String> PATH = ConfigOption.string(PREFIX + "<name>.path", null,
            Importance.ESSENTIAL,
            "Local directory of the folder; absolute, or relative to the mirror's base directory. It must exist and be writable.")
            .required();

    public static final ConfigOption<String> INCLUDE = ConfigOption.string(PREFIX + "<name>.include", "",
            Importance.FREQUENT,
            "Comma-separated globs of relative paths to replicate (*, ?, **; a glob without '/' matches at any depth); empty means everything.");

    public static final ConfigOption<String> EXCLUDE = ConfigOption.string(PREFIX + "<name>.exclude", "",
            Importance.FREQUENT,
            "Comma-separated globs of relative paths never replicated; an excluded directory is skipped whole.");

    public static final long DEFAULT_MAX_FILE_BYTES = 1L << 30;

    public static final ConfigOption<Long> MAX_FILE_BYTES = ConfigOption.longValue(PREFIX + "<name>.max-file-bytes",
            DEFAULT_MAX_FILE_BYTES, 0, Long.MAX_VALUE, Importance.RARE,
            "Largest file replicated in this folder; larger files are refused and logged.");

    /** Every option of this class, for the README's option tables. */
    public static final List<ConfigOption<?>> OPTIONS = List.of(FOLDERS, PATH, INCLUDE, EXCLUDE, MAX_FILE_BYTES);

    private static final Set<String> FOLDER_SUFFIXES = Set.of("path", "include", "exclude", "max-file-bytes");

    /** One configured folder. {@code root} is absolute and normalized. */
    public record Folder(String name, Path root, FolderFilter filter, long maxFileBytes) {
        public Folder {
            Objects.requireNonNull(name);
            Objects.requireNonNull(root);
            Objects.requireNonNull(filter);
        }
    }

    private final Map<String, Folder> folders;
    private final List<String> order;

    private FolderConfig(Map<String, Folder> folders) {
        this.folders = Map.copyOf(folders);
        this.order = List.copyOf(folders.keySet());
    }

    /** Reads and validates; throws {@link ConfigException} listing every problem. */
    public static FolderConfig from(Map<String, String> raw, Path baseDir) {
        List<String> problems = new ArrayList<>();
        FolderConfig c = from(raw, baseDir, problems);
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return c;
    }

    /** Reads and validates; adds every problem to {@code problems} (the result is then partial). */
    public static FolderConfig from(Map<String, String> raw, Path baseDir, List<String> problems) {
        return from(raw, baseDir, problems, Files::isWritable);
    }

    /** As {@link #from(Map, Path, List)}, with how to tell a writable directory (tests: root writes anywhere). */
    static FolderConfig from(Map<String, String> raw, Path baseDir, List<String> problems,
                             java.util.function.Predicate<Path> writable) {
        List<String> names = ConfigOption.splitCommaList(FOLDERS.read(raw, problems));
        Set<String> known = new TreeSet<>();
        for (String name : names) {
            if (!NAME.matcher(name).matches()) {
                problems.add("Invalid folder name '" + name + "' in '" + FOLDERS.key()
                        + "': folder names are 1-64 characters of [a-z0-9_-]; rename it in mirror.properties"
                        + " (and on every mirror, the name is what mirrors share).");
            } else if (!known.add(name)) {
                problems.add("Folder '" + name + "' is named twice in '" + FOLDERS.key() + "': name it once.");
            }
        }
        for (String key : new TreeSet<>(raw.keySet())) {
            if (!key.startsWith(PREFIX)) {
                continue;
            }
            String rest = key.substring(PREFIX.length());
            int dot = rest.indexOf('.');
            String name = dot < 0 ? rest : rest.substring(0, dot);
            String suffix = dot < 0 ? "" : rest.substring(dot + 1);
            if (!known.contains(name)) {
                problems.add("Unknown key '" + key + "': folder '" + name + "' is not listed in '" + FOLDERS.key()
                        + "' (" + String.join(",", names) + "); add it there or remove the key.");
            } else if (!FOLDER_SUFFIXES.contains(suffix)) {
                problems.add("Unknown key '" + key + "': a folder takes " + PREFIX + name
                        + ".{path, include, exclude, max-file-bytes}; fix the spelling or remove the key.");
            }
        }
        // In the order of mirror.folders, so folders() and messages follow the operator's list.
        Map<String, Folder> out = new LinkedHashMap<>();
        for (String name : new LinkedHashSet<>(names)) {
            if (known.contains(name)) {
                Folder f = readFolder(raw, name, baseDir, problems, writable);
                if (f != null) {
                    out.put(name, f);
                }
            }
        }
        checkOverlaps(out, problems);
        return new FolderConfig(out);
    }

    private static Folder readFolder(Map<String, String> raw, String name, Path baseDir, List<String> problems,
                                     java.util.function.Predicate<Path> writable) {
        String pathKey = key(PATH, name);
        String pathValue = raw.get(pathKey);
        Path root = null;
        if (pathValue == null || pathValue.isBlank()) {
            problems.add("Missing '" + pathKey + "': folder '" + name + "' needs the local directory it replicates;"
                    + " set it in mirror.properties (absolute, or relative to " + baseDir + ").");
        } else {
            try {
                root = baseDir.resolve(pathValue.trim()).toAbsolutePath().normalize();
                if (!Files.isDirectory(root)) {
                    problems.add("Invalid value '" + pathValue + "' for '" + pathKey + "': " + root
                            + " is not a directory; create it or point the key at an existing directory.");
                    root = null;
                } else if (!writable.test(root)) {
                    problems.add("Invalid value '" + pathValue + "' for '" + pathKey + "': " + root
                            + " is not writable by this process; fix its owner or permissions.");
                    root = null;
                }
            } catch (InvalidPathException e) {
                problems.add("Invalid value '" + pathValue + "' for '" + pathKey + "': it is not a path ("
                        + e.getReason() + "); give a directory path.");
            }
        }
        String incKey = key(INCLUDE, name);
        String excKey = key(EXCLUDE, name);
        FolderFilter filter = FolderFilter.of(ConfigOption.splitCommaList(raw.get(incKey)),
                ConfigOption.splitCommaList(raw.get(excKey)), incKey, excKey, problems);
        String maxKey = key(MAX_FILE_BYTES, name);
        long max = DEFAULT_MAX_FILE_BYTES;
        String maxValue = raw.get(maxKey);
        if (maxValue != null && !maxValue.isBlank()) {
            try {
                max = Long.parseLong(maxValue.trim());
                if (max < 0) {
                    problems.add("Invalid value '" + maxValue + "' for '" + maxKey
                            + "': it must be 0 or more bytes (default " + DEFAULT_MAX_FILE_BYTES + ").");
                }
            } catch (NumberFormatException e) {
                problems.add("Invalid value '" + maxValue + "' for '" + maxKey
                        + "': it is not a whole number of bytes (e.g. 1073741824).");
            }
        }
        return root == null ? null : new Folder(name, root, filter, max);
    }

    private static void checkOverlaps(Map<String, Folder> folders, List<String> problems) {
        List<Folder> list = new ArrayList<>(folders.values());
        for (int i = 0; i < list.size(); i++) {
            for (int j = i + 1; j < list.size(); j++) {
                Path a = real(list.get(i).root());
                Path b = real(list.get(j).root());
                if (a.startsWith(b) || b.startsWith(a)) {
                    problems.add("Folders '" + list.get(i).name() + "' (" + a + ") and '" + list.get(j).name() + "' ("
                            + b + ") overlap: a file would belong to both; give each folder its own directory,"
                            + " side by side rather than one inside the other.");
                }
            }
        }
    }

    private static Path real(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return p;
        }
    }

    /** The concrete key of a per-folder option. */
    public static String key(ConfigOption<?> option, String folderName) {
        return option.key().replace("<name>", folderName);
    }

    /** The folders in the order of {@code mirror.folders}. */
    public List<Folder> folders() {
        List<Folder> out = new ArrayList<>();
        for (String n : order) {
            out.add(folders.get(n));
        }
        return out;
    }

    /** The folder called {@code name}, or null. */
    public Folder folder(String name) {
        return folders.get(name);
    }
}
