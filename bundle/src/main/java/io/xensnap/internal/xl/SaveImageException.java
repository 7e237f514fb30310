package io.xensnap.internal.xl;

/** An xl save image that cannot be read, is not one, or cannot be rewritten; the message names the file. */
public final class SaveImageException extends Exception {

    private static final long serialVersionUID = 1L;

    public SaveImageException(String message) {
        super(message);
    }

    public SaveImageException(String message, Throwable cause) {
        super(message, cause);
    }
}
