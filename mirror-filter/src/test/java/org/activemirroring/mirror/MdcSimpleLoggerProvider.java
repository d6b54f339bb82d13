package org.activemirroring.mirror;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

import org.activemirroring.logging.LogContext;
import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.Logger;
import org.slf4j.MDC;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.BasicMDCAdapter;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.simple.SimpleServiceProvider;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * The tests' logging: slf4j-simple, with the mirror of the logging context in front of each
 * message ({@code {mirror=a} This mirror stopped}), as an operator's logback or log4j2 pattern
 * with {@code %X{mirror}} shows it. slf4j-simple prints no MDC itself. Chosen with the system
 * property {@code slf4j.provider} (failsafe sets it for mirror-filter's integration tests).
 */
public final class MdcSimpleLoggerProvider implements SLF4JServiceProvider {
    private final SimpleServiceProvider simple = new SimpleServiceProvider();
    private final MDCAdapter mdc = new BasicMDCAdapter();
    private final IMarkerFactory markers = new BasicMarkerFactory();
    private final ConcurrentMap<String, Logger> loggers = new ConcurrentHashMap<>();
    private final ILoggerFactory factory = name -> loggers.computeIfAbsent(name,
            n -> new MdcLogger(simple.getLoggerFactory().getLogger(n)));

    @Override
    public ILoggerFactory getLoggerFactory() {
        return factory;
    }

    @Override
    public IMarkerFactory getMarkerFactory() {
        return markers;
    }

    @Override
    public MDCAdapter getMDCAdapter() {
        return mdc;
    }

    @Override
    public String getRequestedApiVersion() {
        return simple.getRequestedApiVersion();
    }

    @Override
    public void initialize() {
        simple.initialize();
    }

    /** Writes through a slf4j-simple logger, the message prefixed with the MDC's mirror. */
    private static final class MdcLogger extends LegacyAbstractLogger {
        private static final long serialVersionUID = 1L;
        private final transient Logger target;

        MdcLogger(Logger target) {
            this.target = target;
            this.name = target.getName();
        }

        @Override
        public boolean isTraceEnabled() {
            return target.isTraceEnabled();
        }

        @Override
        public boolean isDebugEnabled() {
            return target.isDebugEnabled();
        }

        @Override
        public boolean isInfoEnabled() {
            return target.isInfoEnabled();
        }

        @Override
        public boolean isWarnEnabled() {
            return target.isWarnEnabled();
        }

        @Override
        public boolean isErrorEnabled() {
            return target.isErrorEnabled();
        }

        @Override
        protected String getFullyQualifiedCallerName() {
            return null;
        }

        @Override
        protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] args,
                                                   Throwable t) {
            String mirror = MDC.get(LogContext.MIRROR);
            String text = MessageFormatter.basicArrayFormat(pattern, args);
            String line = mirror == null ? text : "{mirror=" + mirror + "} " + text;
            switch (level) {
                case ERROR -> target.error(line, t);
                case WARN -> target.warn(line, t);
                case INFO -> target.info(line, t);
                case DEBUG -> target.debug(line, t);
                default -> target.trace(line, t);
            }
        }
    }
}
