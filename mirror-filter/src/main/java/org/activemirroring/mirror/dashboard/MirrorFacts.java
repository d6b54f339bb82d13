package org.activemirroring.mirror.dashboard;

import java.util.List;
import java.util.Map;

/**
 * What one mirror tells the others for the dashboard: enough to decide, for each table and
 * folder, whether it holds every write the network knows of. Plain values only, so any version
 * that knows these fields can read it.
 *
 * @param nodeId      the mirror
 * @param ready       whether it serves traffic
 * @param problem     why it is not ready (or what it serves without), or null
 * @param members     the mirrors it sees, itself included
 * @param received    per origin, the highest seq held in its journal (durable: it applies from there)
 * @param applied     per other origin, the highest seq applied to its database
 * @param ownHead     the highest seq of its own writes
 * @param writeHeads  per {@code table:<schema.name>} or {@code folder:<name>}, the highest seq of
 *                    its own writes that touched it, for its writes after {@code writeBaseline}
 * @param writeBaseline its own writes up to here are not in {@code writeHeads} (older than the
 *                    part of its journal it read): each of them may have touched any table or folder
 * @param tables      the tables it mirrors ({@code schema.name})
 * @param parked      per table, changes of other mirrors parked here (not applied); key {@code *}
 *                    when a parked change's tables are unknown
 * @param folders     per replicated folder, versions made elsewhere not written here yet; -1
 *                    while the folder is not synced (its index is still being copied)
 * @param atMillis    when these facts were read (its clock)
 */
public record MirrorFacts(String nodeId, boolean ready, String problem, List<String> members,
                          Map<String, Long> received, Map<String, Long> applied, long ownHead,
                          Map<String, Long> writeHeads, long writeBaseline, List<String> tables,
                          Map<String, Integer> parked, Map<String, Integer> folders, long atMillis) {

    /** Key of a table in {@link #writeHeads}. */
    public static String tableKey(String qualified) {
        return "table:" + qualified;
    }

    /** Key of a folder in {@link #writeHeads}. */
    public static String folderKey(String folder) {
        return "folder:" + folder;
    }

    public MirrorFacts {
        members = members == null ? List.of() : List.copyOf(members);
        received = received == null ? Map.of() : Map.copyOf(received);
        applied = applied == null ? Map.of() : Map.copyOf(applied);
        writeHeads = writeHeads == null ? Map.of() : Map.copyOf(writeHeads);
        tables = tables == null ? List.of() : List.copyOf(tables);
        parked = parked == null ? Map.of() : Map.copyOf(parked);
        folders = folders == null ? Map.of() : Map.copyOf(folders);
    }

    /**
     * The highest seq of this mirror's own writes that may have touched {@code key}: its last
     * known write to it, or, when none since the baseline, the baseline itself.
     */
    long lastOwnWrite(String key) {
        return Math.min(ownHead, Math.max(writeBaseline, writeHeads.getOrDefault(key, 0L)));
    }
}
