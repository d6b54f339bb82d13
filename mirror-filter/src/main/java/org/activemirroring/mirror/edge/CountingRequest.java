package org.activemirroring.mirror.edge;

import java.io.IOException;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;

/** A request whose body is counted as the site reads it: for bodies of unknown length (chunked). */
final class CountingRequest extends HttpServletRequestWrapper {
    private long count;
    private ServletInputStream in;

    CountingRequest(HttpServletRequest request) {
        super(request);
    }

    /** Bytes of the body read so far. */
    long count() {
        return count;
    }

    @Override
    public ServletInputStream getInputStream() throws IOException {
        if (in == null) {
            ServletInputStream inner = super.getInputStream();
            in = new ServletInputStream() {
                @Override
                public int read() throws IOException {
                    int b = inner.read();
                    if (b >= 0) {
                        count++;
                    }
                    return b;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    int n = inner.read(b, off, len);
                    if (n > 0) {
                        count += n;
                    }
                    return n;
                }

                @Override
                public boolean isFinished() {
                    return inner.isFinished();
                }

                @Override
                public boolean isReady() {
                    return inner.isReady();
                }

                @Override
                public void setReadListener(ReadListener listener) {
                    inner.setReadListener(listener);
                }
            };
        }
        return in;
    }
}
