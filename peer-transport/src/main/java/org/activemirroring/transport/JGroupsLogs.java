package org.activemirroring.transport;

import org.jgroups.logging.CustomLogFactory;
import org.jgroups.logging.Log;
import org.jgroups.logging.LogFactory;
import org.jgroups.logging.Slf4jLogImpl;

/**
 * JGroups' logging through SLF4J, as JGroups would do by itself, with one difference: the ERROR
 * JGroups' TCP logs when a connection it closes was closed by the other side at the same moment
 * ("failed sending graceful close to X: Broken pipe", a race between two members leaving or a
 * member leaving and its peers dropping it) goes out at DEBUG. Nothing is lost by that race: the
 * connection is gone either way. Every other line is passed on unchanged.
 *
 * <p>Installed once per class loader of this jar, before the first channel is made, and only when
 * nothing else installed a JGroups log factory.
 */
final class JGroupsLogs implements CustomLogFactory {
    /** JGroups' own format of that line (TcpConnection.closeGracefully). */
    static final String CLOSE_RACE = "%s: failed sending graceful close to %s: %s";

    private static boolean installed;

    private JGroupsLogs() {
    }

    static synchronized void install() {
        if (installed) {
            return;
        }
        installed = true;
        if (LogFactory.getCustomLogFactory() == null && LogFactory.IS_SLF4J_AVAILABLE) {
            LogFactory.setCustomLogFactory(new JGroupsLogs());
        }
    }

    @Override
    public Log getLog(Class<?> clazz) {
        return new Quiet(new Slf4jLogImpl(clazz));
    }

    @Override
    public Log getLog(String category) {
        return new Quiet(new Slf4jLogImpl(category));
    }

    /** Passes every call on, except {@link #CLOSE_RACE} at ERROR, which goes to DEBUG. */
    static final class Quiet implements Log {
        private final Log log;

        Quiet(Log log) {
            this.log = log;
        }

        @Override
        public void error(String format, Object... args) {
            if (CLOSE_RACE.equals(format)) {
                log.debug(format, args);
            } else {
                log.error(format, args);
            }
        }

        // ---- the rest unchanged ----

        @Override
        public boolean isFatalEnabled() {
            return log.isFatalEnabled();
        }

        @Override
        public boolean isErrorEnabled() {
            return log.isErrorEnabled();
        }

        @Override
        public boolean isWarnEnabled() {
            return log.isWarnEnabled();
        }

        @Override
        public boolean isInfoEnabled() {
            return log.isInfoEnabled();
        }

        @Override
        public boolean isDebugEnabled() {
            return log.isDebugEnabled();
        }

        @Override
        public boolean isTraceEnabled() {
            return log.isTraceEnabled();
        }

        @Override
        public void fatal(String msg) {
            log.fatal(msg);
        }

        @Override
        public void fatal(String format, Object... args) {
            log.fatal(format, args);
        }

        @Override
        public void fatal(String msg, Throwable t) {
            log.fatal(msg, t);
        }

        @Override
        public void error(String msg) {
            log.error(msg);
        }

        @Override
        public void error(String msg, Throwable t) {
            log.error(msg, t);
        }

        @Override
        public void warn(String msg) {
            log.warn(msg);
        }

        @Override
        public void warn(String format, Object... args) {
            log.warn(format, args);
        }

        @Override
        public void warn(String msg, Throwable t) {
            log.warn(msg, t);
        }

        @Override
        public void info(String msg) {
            log.info(msg);
        }

        @Override
        public void info(String format, Object... args) {
            log.info(format, args);
        }

        @Override
        public void debug(String msg) {
            log.debug(msg);
        }

        @Override
        public void debug(String format, Object... args) {
            log.debug(format, args);
        }

        @Override
        public void debug(String msg, Throwable t) {
            log.debug(msg, t);
        }

        @Override
        public void trace(Object msg) {
            log.trace(msg);
        }

        @Override
        public void trace(String msg) {
            log.trace(msg);
        }

        @Override
        public void trace(String format, Object... args) {
            log.trace(format, args);
        }

        @Override
        public void trace(String msg, Throwable t) {
            log.trace(msg, t);
        }

        @Override
        public void setLevel(String level) {
            log.setLevel(level);
        }

        @Override
        public String getLevel() {
            return log.getLevel();
        }
    }
}
