package org.activemirroring.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StackTemplateTest {

    @TempDir
    Path dir;

    private TransportConfig config(Map<String, String> extra) {
        Map<String, String> raw = new HashMap<>();
        raw.put("mirror.node.id", "n1");
        raw.put("mirror.data.dir", dir.toString());
        raw.put("mirror.bind.host", "10.0.0.1");
        raw.put("mirror.bind.port", "7900");
        raw.put("mirror.peers", "10.0.0.2:7800,10.0.0.1:7900,[::1]:7801");
        raw.putAll(extra);
        List<String> problems = new ArrayList<>();
        TransportConfig c = TransportConfig.from(raw, problems);
        assertEquals(List.of(), problems);
        return c;
    }

    @Test
    void initialHostsIncludeSelfOnceAndUseJGroupsSyntax() {
        assertEquals("10.0.0.1[7900],10.0.0.2[7800],::1[7801]", StackTemplate.initialHosts(config(Map.of())));
    }

    @Test
    void builtInStackIsFilledFromTheMirrorSettings() throws Exception {
        String xml;
        try (InputStream in = StackTemplate.render(config(Map.of("mirror.jgroups.join_timeout", "3s")))) {
            xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertFalse(xml.contains("${"), xml);
        assertTrue(xml.contains("bind_addr=\"10.0.0.1\""));
        assertTrue(xml.contains("bind_port=\"7900\""));
        assertTrue(xml.contains("initial_hosts=\"10.0.0.1[7900],10.0.0.2[7800],::1[7801]\""));
        assertTrue(xml.contains("join_timeout=\"3s\""));
        assertTrue(xml.contains("offset=\"" + StackTemplate.FD_SOCK_OFFSET + "\""));
    }

    @Test
    void missingPlaceholderWithoutDefaultIsNamed() {
        TransportException e = assertThrows(TransportException.class,
                () -> StackTemplate.substitute("<a x=\"${nope}\"/>", Map.of()));
        assertTrue(e.getMessage().contains("nope"), e.getMessage());
        assertFalse(e.isRetriable());
    }

    @Test
    void valuesAreXmlEscapedAndDefaultsApply() throws Exception {
        assertEquals("<a x=\"a&amp;b\" y=\"d\"/>",
                StackTemplate.substitute("<a x=\"${k}\" y=\"${other:d}\"/>", Map.of("k", "a&b")));
    }

    @Test
    void customStackFileIsUsed() throws IOException, TransportException {
        Path stack = dir.resolve("s.xml");
        Files.writeString(stack, "<config port=\"${mirror.bind.port}\"/>");
        try (InputStream in = StackTemplate.render(config(Map.of("mirror.transport.stack", stack.toString())))) {
            assertEquals("<config port=\"7900\"/>", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void everyOptionHasADoc() {
        for (var o : TransportConfig.OPTIONS) {
            assertFalse(o.doc().isBlank(), o.key());
        }
    }
}
