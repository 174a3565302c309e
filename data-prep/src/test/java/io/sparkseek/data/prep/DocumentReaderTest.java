package io.sparkseek.data.prep;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Each input format and policy on real files through Hadoop's local file system. */
class DocumentReaderTest {
    private static final byte[] BAD_UTF8 = {'a', (byte) 0xC3, '(', 'b'};

    @TempDir
    java.nio.file.Path dir;

    private final FileSystem fs = local();

    private static FileSystem local() {
        try {
            return FileSystem.getLocal(new Configuration());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ReadRules rules(PrepOptions.TextSplit split, PrepOptions.InvalidUtf8 utf8, PrepOptions.BadRecords bad) {
        return new ReadRules(PrepOptions.InputFormat.AUTO, "text", split, utf8, bad);
    }

    private record Read(List<Doc> docs, PrepCounters counts) {
    }

    private Read read(ReadRules rules, java.nio.file.Path file) {
        List<Doc> docs = new ArrayList<>();
        SourceFile src = new SourceFile(3, file.toUri().toString(), 0, 0);
        PrepCounters c = new DocumentReader(rules).read(fs, src, docs::add);
        return new Read(docs, c);
    }

    private java.nio.file.Path write(String name, byte[]... parts) throws IOException {
        java.nio.file.Path p = dir.resolve(name);
        try (OutputStream o = Files.newOutputStream(p)) {
            for (byte[] b : parts) {
                o.write(b);
            }
        }
        return p;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void plainTextSplitsByFileLineAndParagraph() throws IOException {
        java.nio.file.Path f = write("a.txt", utf8("one\r\ntwo\n\n  \nthree\nfour\n\n\n"));
        Read whole = read(rules(PrepOptions.TextSplit.FILE, PrepOptions.InvalidUtf8.FAIL, PrepOptions.BadRecords.FAIL), f);
        assertThat(whole.docs()).extracting(Doc::text).containsExactly("one\ntwo\n\n  \nthree\nfour");
        assertThat(whole.docs().get(0).key()).isEqualTo(3L << 32);

        Read lines = read(rules(PrepOptions.TextSplit.LINE, PrepOptions.InvalidUtf8.FAIL, PrepOptions.BadRecords.FAIL), f);
        assertThat(lines.docs()).extracting(Doc::text).containsExactly("one", "two", "three", "four");
        assertThat(lines.docs()).extracting(Doc::ordinal).containsExactly(0L, 1L, 4L, 5L);
        assertThat(lines.counts().get(PrepCounters.DOCUMENTS_READ)).isEqualTo(8);
        assertThat(lines.counts().get(PrepCounters.DROPPED_EMPTY)).isEqualTo(4);

        Read paras = read(rules(PrepOptions.TextSplit.PARAGRAPH, PrepOptions.InvalidUtf8.FAIL, PrepOptions.BadRecords.FAIL), f);
        assertThat(paras.docs()).extracting(Doc::text).containsExactly("one\ntwo", "three\nfour");
        assertThat(paras.docs()).extracting(Doc::ordinal).containsExactly(0L, 1L);
    }

    @Test
    void gzipIsDecompressedAndTheFormatComesFromTheInnerExtension() throws IOException {
        java.nio.file.Path p = dir.resolve("docs.jsonl.gz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(p))) {
            o.write(utf8("{\"text\": \"gz one\"}\n{\"text\": \"gz two\"}\n"));
        }
        Read r = read(rules(PrepOptions.TextSplit.FILE, PrepOptions.InvalidUtf8.FAIL, PrepOptions.BadRecords.FAIL), p);
        assertThat(r.docs()).extracting(Doc::text).containsExactly("gz one", "gz two");
    }

    @Test
    void jsonlPoliciesForBadLinesMissingFieldsAndInvalidUtf8() throws IOException {
        java.nio.file.Path f = write("c.jsonl",
                utf8("{\"text\": \"first\", \"id\": 1}\n"),
                utf8("{\"text\": \"trunc\n"),
                utf8("\n"),
                utf8("{\"body\": \"no text field\"}\n"),
                utf8("{\"text\": 42}\n"),
                utf8("[1, 2]\n"),
                utf8("{\"text\": \""), BAD_UTF8, utf8("\"}\n"),
                utf8("{\"text\": \"last \\u00e9\"}"));
        ReadRules skip = rules(PrepOptions.TextSplit.FILE, PrepOptions.InvalidUtf8.SKIP, PrepOptions.BadRecords.SKIP);
        Read r = read(skip, f);
        assertThat(r.docs()).extracting(Doc::text).containsExactly("first", "last \u00e9");
        assertThat(r.docs()).extracting(Doc::ordinal).containsExactly(0L, 7L);
        assertThat(r.counts().get(PrepCounters.SKIPPED_BAD_RECORDS)).isEqualTo(4);
        assertThat(r.counts().get(PrepCounters.DROPPED_INVALID_UTF8)).isEqualTo(1);
        assertThat(r.counts().get(PrepCounters.DOCUMENTS_READ)).isEqualTo(7);

        ReadRules replace = rules(PrepOptions.TextSplit.FILE, PrepOptions.InvalidUtf8.REPLACE, PrepOptions.BadRecords.SKIP);
        Read rr = read(replace, f);
        assertThat(rr.docs()).extracting(Doc::text).containsExactly("first", "a\uFFFD(b", "last \u00e9");
        assertThat(rr.counts().get(PrepCounters.REPLACED_INVALID_UTF8)).isEqualTo(1);

        ReadRules failBad = rules(PrepOptions.TextSplit.FILE, PrepOptions.InvalidUtf8.SKIP, PrepOptions.BadRecords.FAIL);
        assertThatThrownBy(() -> read(failBad, f)).isInstanceOf(PrepInputException.class)
                .hasMessageContaining("c.jsonl:2: not valid JSON").hasMessageContaining("--bad-records skip");
        java.nio.file.Path noField = write("d.jsonl", utf8("{\"body\": \"x\"}\n"));
        assertThatThrownBy(() -> read(failBad, noField)).hasMessageContaining("d.jsonl:1: no \"text\" field")
                .hasMessageContaining("--text-field");
        ReadRules failUtf8 = rules(PrepOptions.TextSplit.FILE, PrepOptions.InvalidUtf8.FAIL, PrepOptions.BadRecords.SKIP);
        assertThatThrownBy(() -> read(failUtf8, f)).hasMessageContaining("c.jsonl:7: not valid UTF-8 (first bad byte "
                + "at offset 11)").hasMessageContaining("--invalid-utf8");
    }

    @Test
    void invalidUtf8InPlainText() throws IOException {
        java.nio.file.Path f = write("bad.txt", utf8("good line\n"), BAD_UTF8, utf8("\n"));
        Read skipped = read(rules(PrepOptions.TextSplit.LINE, PrepOptions.InvalidUtf8.SKIP, PrepOptions.BadRecords.FAIL), f);
        assertThat(skipped.docs()).extracting(Doc::text).containsExactly("good line");
        assertThat(skipped.counts().get(PrepCounters.DROPPED_INVALID_UTF8)).isEqualTo(1);
        assertThatThrownBy(() -> read(rules(PrepOptions.TextSplit.LINE, PrepOptions.InvalidUtf8.FAIL,
                PrepOptions.BadRecords.FAIL), f)).hasMessageContaining("bad.txt: line 2: not valid UTF-8 (first bad byte at "
                + "offset 1)");
    }

    @Test
    void parquetTextColumn() throws IOException {
        MessageType schema = MessageTypeParser.parseMessageType(
                "message doc { optional binary text (STRING); required int32 n; }");
        Path p = new Path(dir.resolve("e.parquet").toUri());
        try (ParquetWriter<Group> w = ExampleParquetWriter.builder(p).withType(schema).withConf(new Configuration())
                .build()) {
            SimpleGroupFactory f = new SimpleGroupFactory(schema);
            w.write(f.newGroup().append("text", "row zero").append("n", 0));
            w.write(f.newGroup().append("n", 1)); // null text
            w.write(f.newGroup().append("text", Binary.fromConstantByteArray(BAD_UTF8)).append("n", 2));
            w.write(f.newGroup().append("text", "row three").append("n", 3));
        }
        java.nio.file.Path file = dir.resolve("e.parquet");
        Read r = read(rules(PrepOptions.TextSplit.FILE, PrepOptions.InvalidUtf8.REPLACE, PrepOptions.BadRecords.SKIP), file);
        assertThat(r.docs()).extracting(Doc::text).containsExactly("row zero", "a\uFFFD(b", "row three");
        assertThat(r.docs()).extracting(Doc::ordinal).containsExactly(0L, 2L, 3L);
        assertThat(r.counts().get(PrepCounters.SKIPPED_BAD_RECORDS)).isEqualTo(1);

        ReadRules other = new ReadRules(PrepOptions.InputFormat.AUTO, "body", PrepOptions.TextSplit.FILE,
                PrepOptions.InvalidUtf8.REPLACE, PrepOptions.BadRecords.SKIP);
        assertThatThrownBy(() -> read(other, file)).hasMessageContaining("has no column \"body\"")
                .hasMessageContaining("[text, n]");
        ReadRules numeric = new ReadRules(PrepOptions.InputFormat.AUTO, "n", PrepOptions.TextSplit.FILE,
                PrepOptions.InvalidUtf8.REPLACE, PrepOptions.BadRecords.SKIP);
        assertThatThrownBy(() -> read(numeric, file)).hasMessageContaining("not a string column");
    }

    @Test
    void documentsAreReadAsTheyAreConsumed() throws IOException {
        // the failure on line 3 surfaces only when the reader gets there: nothing is read ahead of the consumer
        java.nio.file.Path f = write("lazy.jsonl", utf8("{\"text\": \"one\"}\n{\"text\": \"two\"}\nbroken\n"));
        SourceFile src = new SourceFile(0, f.toUri().toString(), 0, 0);
        try (DocumentReader.Documents docs = new DocumentReader(rules(PrepOptions.TextSplit.FILE,
                PrepOptions.InvalidUtf8.FAIL, PrepOptions.BadRecords.FAIL)).open(fs, src)) {
            assertThat(docs.next().text()).isEqualTo("one");
            assertThat(docs.next().text()).isEqualTo("two");
            assertThat(docs.counts().get(PrepCounters.DOCUMENTS_READ)).isEqualTo(2);
            assertThatThrownBy(docs::hasNext).hasMessageContaining("lazy.jsonl:3: not valid JSON");
        }
    }

    @Test
    void unreadableFileIsAnErrorNamingIt() {
        java.nio.file.Path missing = dir.resolve("gone.txt");
        assertThatThrownBy(() -> read(rules(PrepOptions.TextSplit.FILE, PrepOptions.InvalidUtf8.SKIP,
                PrepOptions.BadRecords.SKIP), missing)).isInstanceOf(PrepInputException.class)
                .hasMessageContaining("cannot read input").hasMessageContaining("gone.txt");
    }
}
