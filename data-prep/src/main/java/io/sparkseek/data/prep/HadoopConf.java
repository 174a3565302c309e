package io.sparkseek.data.prep;

import org.apache.hadoop.conf.Configuration;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;

/**
 * A Hadoop {@link Configuration} that Spark can ship to tasks (Configuration is Writable, not Serializable), so a
 * task opens {@code s3a://} or {@code hdfs://} paths with the driver's settings and credentials providers.
 */
public final class HadoopConf implements Serializable {
    private transient Configuration conf;

    public HadoopConf(Configuration conf) {
        this.conf = new Configuration(conf);
    }

    public Configuration get() {
        return conf;
    }

    private void writeObject(ObjectOutputStream out) throws IOException {
        out.defaultWriteObject();
        conf.write(out);
    }

    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        conf = new Configuration(false);
        conf.readFields(in);
    }
}
