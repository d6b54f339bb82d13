package org.activemirroring.mirror.edge;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;

/**
 * The response of a write request: runs {@code stamp} once, at the last moment a header can still
 * be added: before the first byte of the body, a redirect, an error page or a flush, or when the
 * site is done ({@link #finish}). The site's transaction has committed by then in the usual
 * write-then-respond order; a site that streams its body before it commits gets a token that may
 * not cover that write.
 */
final class StampingResponse extends HttpServletResponseWrapper {
    private final Runnable stamp;
    private boolean stamped;
    private ServletOutputStream out;
    private PrintWriter writer;

    StampingResponse(HttpServletResponse response, Runnable stamp) {
        super(response);
        this.stamp = stamp;
    }

    private void stamp() {
        if (!stamped) {
            stamped = true;
            if (!getResponse().isCommitted()) {
                stamp.run();
            }
        }
    }

    /** The site is done: stamps if nothing did yet. */
    void finish() {
        stamp();
    }

    @Override
    public void sendRedirect(String location) throws IOException {
        stamp();
        super.sendRedirect(location);
    }

    @Override
    public void sendError(int sc, String msg) throws IOException {
        stamp();
        super.sendError(sc, msg);
    }

    @Override
    public void sendError(int sc) throws IOException {
        stamp();
        super.sendError(sc);
    }

    @Override
    public void flushBuffer() throws IOException {
        stamp();
        super.flushBuffer();
    }

    @Override
    public ServletOutputStream getOutputStream() throws IOException {
        if (out == null) {
            ServletOutputStream inner = super.getOutputStream();
            out = new ServletOutputStream() {
                @Override
                public void write(int b) throws IOException {
                    stamp();
                    inner.write(b);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    stamp();
                    inner.write(b, off, len);
                }

                @Override
                public void flush() throws IOException {
                    stamp();
                    inner.flush();
                }

                @Override
                public void close() throws IOException {
                    stamp();
                    inner.close();
                }

                @Override
                public boolean isReady() {
                    return inner.isReady();
                }

                @Override
                public void setWriteListener(WriteListener listener) {
                    inner.setWriteListener(listener);
                }
            };
        }
        return out;
    }

    @Override
    public PrintWriter getWriter() throws IOException {
        if (writer == null) {
            PrintWriter inner = super.getWriter();
            writer = new PrintWriter(new Writer() {
                @Override
                public void write(char[] cbuf, int off, int len) {
                    stamp();
                    inner.write(cbuf, off, len);
                }

                @Override
                public void write(String s, int off, int len) {
                    stamp();
                    inner.write(s, off, len);
                }

                @Override
                public void flush() {
                    stamp();
                    inner.flush();
                }

                @Override
                public void close() {
                    stamp();
                    inner.close();
                }
            });
        }
        return writer;
    }
}
