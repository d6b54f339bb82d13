package org.activemirroring.mirror;

import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Collections;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deregisters the JDBC drivers a web application's class loader registered, when the plugin lives
 * in that application's {@code WEB-INF/lib} and the application stops.
 *
 * <p>The node's first {@code DriverManager.getConnection} makes {@code DriverManager} load every
 * driver it finds through the thread's context class loader, so pgjdbc in {@code WEB-INF/lib}
 * registers itself from the web application; left registered, the driver pins the application's
 * class loader after undeploy, and Tomcat forcibly unregisters it with a memory-leak warning.
 * With the plugin in Tomcat's {@code lib/} there is nothing to do: its drivers belong to the
 * shared class loader and other applications may use them.
 */
final class WebAppJdbcDrivers {
    private static final Logger LOG = LoggerFactory.getLogger(WebAppJdbcDrivers.class);

    private WebAppJdbcDrivers() {
    }

    /** Deregisters every driver whose class {@code loader} loaded. */
    static void deregisterLoadedBy(ClassLoader loader) {
        for (Driver driver : Collections.list(DriverManager.getDrivers())) {
            if (driver.getClass().getClassLoader() == loader) {
                try {
                    DriverManager.deregisterDriver(driver);
                    LOG.debug("ActiveMirroring: deregistered the JDBC driver {} of the stopping web application",
                            driver.getClass().getName());
                } catch (SQLException | SecurityException e) {
                    LOG.warn("ActiveMirroring: could not deregister the JDBC driver {}: {}", driver.getClass().getName(),
                            e.toString());
                }
            }
        }
    }
}
