package org.activemirroring.sample.web;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CsrfTest {
    private static final String TOKEN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJK-_0123";

    @Test
    void aFormMustRepeatItsBrowsersToken() {
        assertTrue(Csrf.matches(TOKEN, TOKEN));
        assertFalse(Csrf.matches(TOKEN, null), "missing field");
        assertFalse(Csrf.matches(null, TOKEN), "missing cookie");
        assertFalse(Csrf.matches(TOKEN, TOKEN.replace('a', 'b')), "other token");
        assertFalse(Csrf.matches("", ""), "empty on both sides");
        assertFalse(Csrf.matches("short", "short"), "not a token this site makes");
    }
}
