package io.sparkseek.data.prep;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Expands {@code --input} paths into the input files of a run: a file is itself, a directory is every file below
 * it (recursively), a glob is what it matches. As in Hadoop's own input formats, names starting with {@code _} or
 * {@code .} ({@code _SUCCESS}, {@code .crc}, hidden files) are skipped inside directories. The result is sorted by
 * fully qualified URI, which fixes the order of sources and so of documents. A path that does not exist, or a glob
 * or directory that holds no file, is an error naming it.
 */
public final class SourceLister {
    private SourceLister() {
    }

    /** One listed input: fully qualified URI, size in bytes, modification time (ms since the epoch). */
    public record Listed(String uri, long size, long modified) {
    }

    public static List<Listed> list(List<String> inputs, Configuration conf) {
        TreeMap<String, Listed> files = new TreeMap<>();
        for (String input : inputs) {
            Path pattern = new Path(input);
            try {
                FileSystem fs = pattern.getFileSystem(conf);
                FileStatus[] matches = fs.globStatus(pattern);
                if (matches == null || matches.length == 0) {
                    throw new PrepInputException("input " + input + " does not exist"
                            + (isGlob(input) ? " (the glob matched nothing)" : ""));
                }
                int before = files.size();
                for (FileStatus m : matches) {
                    if (m.isDirectory()) {
                        RemoteIterator<LocatedFileStatus> it = fs.listFiles(m.getPath(), true);
                        while (it.hasNext()) {
                            LocatedFileStatus f = it.next();
                            if (!hidden(m.getPath(), f.getPath())) {
                                add(files, fs, f);
                            }
                        }
                    } else {
                        add(files, fs, m);
                    }
                }
                if (files.size() == before && matchesHaveNoFiles(matches)) {
                    throw new PrepInputException("input " + input + " holds no files");
                }
            } catch (IOException e) {
                throw new PrepInputException("cannot list input " + input + ": " + e, e);
            }
        }
        return new ArrayList<>(files.values());
    }

    private static boolean matchesHaveNoFiles(FileStatus[] matches) {
        for (FileStatus m : matches) {
            if (m.isFile()) {
                return false;
            }
        }
        return true;
    }

    private static void add(TreeMap<String, Listed> files, FileSystem fs, FileStatus f) {
        String uri = fs.makeQualified(f.getPath()).toString();
        files.put(uri, new Listed(uri, f.getLen(), f.getModificationTime()));
    }

    /** True when a component of {@code file} below {@code root} starts with '_' or '.'. */
    private static boolean hidden(Path root, Path file) {
        String rootUri = root.toUri().getPath();
        for (Path p = file; p != null && !p.toUri().getPath().equals(rootUri); p = p.getParent()) {
            String name = p.getName();
            if (name.startsWith("_") || name.startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    private static boolean isGlob(String s) {
        return s.indexOf('*') >= 0 || s.indexOf('?') >= 0 || s.indexOf('[') >= 0 || s.indexOf('{') >= 0;
    }
}
