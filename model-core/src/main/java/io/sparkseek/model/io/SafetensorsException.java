package io.sparkseek.model.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A safetensors file that breaks the format rules of spec §9.1, or a request the file cannot serve (unknown
 * tensor, wrong dtype). The message always starts with the file path.
 */
public class SafetensorsException extends IOException {

    private static final long serialVersionUID = 1L;

    public SafetensorsException(Path file, String problem) {
        super(file + ": " + problem);
    }

    public SafetensorsException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
