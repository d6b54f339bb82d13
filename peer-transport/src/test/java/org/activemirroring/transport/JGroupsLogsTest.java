package org.activemirroring.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

import org.jgroups.logging.Log;
import org.junit.jupiter.api.Test;

class JGroupsLogsTest {
    /** A Log that records "level:format" of every call. */
    private static Log recording(List<String> calls) {
        return (Log) Proxy.newProxyInstance(Log.class.getClassLoader(), new Class<?>[] {Log.class},
                (proxy, method, args) -> {
                    if (method.getName().startsWith("is")) {
                        return true;
                    }
                    calls.add(method.getName() + ":" + (args == null ? "" : args[0]));
                    return null;
                });
    }

    @Test
    void theCloseRaceGoesToDebugAndEverythingElseIsPassedOn() {
        List<String> calls = new ArrayList<>();
        Log quiet = new JGroupsLogs.Quiet(recording(calls));
        quiet.error(JGroupsLogs.CLOSE_RACE, "a", "b", "Broken pipe");
        quiet.error("%s: failed handling message from %s", "a", "b");
        quiet.error("plain");
        quiet.warn("%s: careful", "a");
        assertEquals(List.of("debug:" + JGroupsLogs.CLOSE_RACE, "error:%s: failed handling message from %s",
                "error:plain", "warn:%s: careful"), calls);
    }

    @Test
    void theFormatIsJGroupsOwn() throws Exception {
        // The line JGroups' TcpConnection logs: if a JGroups upgrade rewords it, this fails first.
        byte[] clazz;
        try (var in = org.jgroups.blocks.cs.TcpConnection.class.getResourceAsStream("TcpConnection.class")) {
            clazz = in.readAllBytes();
        }
        String text = new String(clazz, java.nio.charset.StandardCharsets.ISO_8859_1);
        assertEquals(true, text.contains(JGroupsLogs.CLOSE_RACE), "JGroups no longer logs " + JGroupsLogs.CLOSE_RACE);
    }
}
