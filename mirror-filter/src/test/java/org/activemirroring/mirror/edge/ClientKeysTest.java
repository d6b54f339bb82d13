package org.activemirroring.mirror.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class ClientKeysTest {
    private static final ClientKeys KEYS = new ClientKeys(List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("::1")), null);

    @Test
    void cidrsMatchTheirRangeOnly() {
        Cidr c = Cidr.parse("192.168.4.0/22");
        assertTrue(c.contains(Cidr.literal("192.168.7.255")));
        assertFalse(c.contains(Cidr.literal("192.168.8.0")));
        assertFalse(c.contains(Cidr.literal("::ffff:1")), "IPv6 is never in an IPv4 range");
        assertTrue(Cidr.parse("2001:db8::/32").contains(Cidr.literal("2001:db8:1::5")));
        assertTrue(Cidr.parse("0.0.0.0/0").contains(Cidr.literal("8.8.8.8")));
        for (String bad : List.of("example.org", "10.0.0.0/33", "10.0.0.300", "1.2.3.4/x", "::1/129", "")) {
            assertThrows(IllegalArgumentException.class, () -> Cidr.parse(bad), bad);
        }
        assertNull(Cidr.literal("localhost"), "no DNS");
    }

    @Test
    void forwardedForIsBelievedOnlyFromATrustedProxyAndReadFromTheRight() {
        assertEquals("203.0.113.9", KEYS.clientAddress("203.0.113.9", List.of("1.2.3.4")), "untrusted peer: header ignored");
        assertEquals("1.2.3.4", KEYS.clientAddress("10.0.0.5", List.of("1.2.3.4")));
        assertEquals("198.51.100.7", KEYS.clientAddress("10.0.0.5", List.of("6.6.6.6, 198.51.100.7, 10.1.1.1")),
                "the rightmost untrusted hop; what the client wrote to its left is not believed");
        assertEquals("198.51.100.7", KEYS.clientAddress("10.0.0.5", List.of("6.6.6.6", "198.51.100.7:4711")));
        assertEquals("10.1.1.1", KEYS.clientAddress("10.0.0.5", List.of("garbage, 10.1.1.1")),
                "garbage ends the chain at the last trusted hop");
        assertEquals("10.2.2.2", KEYS.clientAddress("10.0.0.5", List.of("10.2.2.2, 10.1.1.1")), "all trusted: leftmost");
        assertEquals("10.0.0.5", KEYS.clientAddress("10.0.0.5", List.of()));
        assertEquals("192.0.2.1", KEYS.clientAddress("0:0:0:0:0:0:0:1", List.of("[192.0.2.1]")));
    }
}
