package io.sparkseek.data.prep;

import java.io.Serializable;

/** The part of {@link PrepOptions} a task needs to turn one input file into documents. */
public record ReadRules(PrepOptions.InputFormat format, String textField, PrepOptions.TextSplit textSplit,
                        PrepOptions.InvalidUtf8 invalidUtf8, PrepOptions.BadRecords badRecords) implements Serializable {
    public static ReadRules of(PrepOptions o) {
        return new ReadRules(o.format(), o.textField(), o.textSplit(), o.invalidUtf8(), o.badRecords());
    }
}
