package dev.steer.core.tokenizer;

import java.nio.file.Path;

/**
 * A tokenizer folder or file that cannot be used: missing, too large, not UTF-8, malformed JSON, or
 * lacking a required token. The message always starts with the path concerned and then says what
 * is wrong with it. It is an {@link IllegalArgumentException} because the path handed to
 * {@link ClipTokenizer#fromFolder(Path)} is what is at fault.
 */
public class TokenizerFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** Creates an exception about {@code file}; the message gets the path prepended. */
    public TokenizerFormatException(Path file, String problem) {
        super(file + ": " + problem);
    }

    /** Creates an exception about {@code file} with a cause. */
    public TokenizerFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
