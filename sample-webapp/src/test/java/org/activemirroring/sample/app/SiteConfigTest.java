package org.activemirroring.sample.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.HashMap;
import java.util.Map;
import java.util.logging.Logger;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SiteConfigTest {
    @TempDir
    Path dir;

    private final Map<String, Object> jndi = new HashMap<>();
    private final Map<String, String> params = new HashMap<>();

    private SiteConfig resolve() {
        return SiteConfig.resolve(jndi::get, params::get);
    }

    @Test
    void readsJndiFirstThenInitParamsWithTheDefaultFolderName() {
        DataSource ds = new NoDataSource();
        jndi.put(SiteConfig.DATA_SOURCE, ds);
        params.put(SiteConfig.UPLOAD_DIR_PARAM, dir.resolve("from-param").toString());
        SiteConfig c = resolve();
        assertSame(ds, c.dataSource());
        assertEquals(dir.resolve("from-param"), c.uploadDir());
        assertTrue(Files.isDirectory(c.uploadDir()), "created when missing");
        assertEquals("uploads", c.uploadFolderName());

        jndi.put(SiteConfig.UPLOAD_DIR, dir.toString());
        jndi.put(SiteConfig.UPLOAD_FOLDER_NAME, "site-files");
        params.put(SiteConfig.UPLOAD_FOLDER_NAME_PARAM, "ignored");
        c = resolve();
        assertEquals(dir, c.uploadDir());
        assertEquals("site-files", c.uploadFolderName());
    }

    @Test
    void everyProblemIsReportedAtOnceWithWhatToSet() throws Exception {
        IllegalStateException e = assertThrows(IllegalStateException.class, this::resolve);
        assertTrue(e.getMessage().contains("java:comp/env/jdbc/site") && e.getMessage().contains("site/uploadDir")
                && e.getMessage().contains("site.uploadDir"), e.getMessage());

        jndi.put(SiteConfig.DATA_SOURCE, "not a pool");
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        jndi.put(SiteConfig.UPLOAD_DIR, file.toString());
        e = assertThrows(IllegalStateException.class, this::resolve);
        assertTrue(e.getMessage().contains("java.lang.String, not a javax.sql.DataSource"), e.getMessage());
        assertTrue(e.getMessage().contains("'" + file + "' is not a writable directory"), e.getMessage());
    }

    /** A data source nobody connects to: the configuration only passes it on. */
    private static final class NoDataSource implements DataSource {
        @Override
        public Connection getConnection() {
            throw new UnsupportedOperationException();
        }

        @Override
        public Connection getConnection(String username, String password) {
            throw new UnsupportedOperationException();
        }

        @Override
        public PrintWriter getLogWriter() {
            return null;
        }

        @Override
        public void setLogWriter(PrintWriter out) {
        }

        @Override
        public void setLoginTimeout(int seconds) {
        }

        @Override
        public int getLoginTimeout() {
            return 0;
        }

        @Override
        public Logger getParentLogger() {
            return Logger.getGlobal();
        }

        @Override
        public <T> T unwrap(Class<T> iface) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean isWrapperFor(Class<?> iface) {
            return false;
        }
    }
}
