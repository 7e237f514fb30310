package io.xensnap.internal.xenstore;

import java.io.IOException;
import java.nio.ByteBuffer;

/** A byte stream to a xenstore daemon. {@link #send} may be called from several threads; {@link #read} from one. */
interface XsTransport extends AutoCloseable {

    /** Writes all of {@code bytes}. */
    void send(ByteBuffer bytes) throws IOException;

    /**
     * Blocks until some bytes arrive.
     *
     * @return the number of bytes read, or -1 at end of stream
     * @throws IOException also when {@link #close()} is called meanwhile, which is how the reader thread is ended
     */
    int read(ByteBuffer into) throws IOException;

    /** @return a short description for logs and messages (the socket path) */
    String describe();

    @Override
    void close();
}
