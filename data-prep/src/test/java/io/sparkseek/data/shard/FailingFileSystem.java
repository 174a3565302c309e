package io.sparkseek.data.shard;

import java.io.IOException;
import java.io.OutputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FilterFileSystem;
import org.apache.hadoop.fs.Path;

/** The wrapped file system, except that writes to files whose name contains a marker fail after some bytes. */
final class FailingFileSystem extends FilterFileSystem {
    private final String marker;
    private final int failAfterBytes;

    FailingFileSystem(FileSystem fs, String marker, int failAfterBytes) {
        super(fs);
        setConf(fs.getConf());
        this.marker = marker;
        this.failAfterBytes = failAfterBytes;
    }

    @Override
    public FSDataOutputStream create(Path f, boolean overwrite) throws IOException {
        FSDataOutputStream real = super.create(f, overwrite);
        if (!f.getName().contains(marker)) {
            return real;
        }
        OutputStream failing = new OutputStream() {
            private long written;

            @Override
            public void write(int b) throws IOException {
                if (written++ >= failAfterBytes) {
                    throw new IOException("simulated disk failure writing " + f);
                }
                real.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                for (int i = 0; i < len; i++) {
                    write(b[off + i]);
                }
            }

            @Override
            public void close() throws IOException {
                real.close();
            }
        };
        return new FSDataOutputStream(failing, null);
    }
}
