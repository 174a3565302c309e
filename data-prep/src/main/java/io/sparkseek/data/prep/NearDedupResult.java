package io.sparkseek.data.prep;

import java.util.Arrays;

/**
 * What {@link NearDedup#find} decided.
 *
 * @param droppedKeys    keys of the documents to drop, sorted ascending: every member of a near-duplicate cluster
 *                       except its smallest key
 * @param candidatePairs distinct pairs (keyA &lt; keyB) that MinHashLSH proposed and whose hashed-feature Jaccard
 *                       distance passed the join's filter
 * @param confirmedPairs candidate pairs whose exact shingle-set Jaccard similarity is at or above the threshold
 * @param clusters       connected components of the confirmed pairs (each has at least two documents)
 */
public record NearDedupResult(long[] droppedKeys, long candidatePairs, long confirmedPairs, long clusters) {

    public NearDedupResult {
        droppedKeys = droppedKeys.clone();
        for (int i = 1; i < droppedKeys.length; i++) {
            if (droppedKeys[i - 1] >= droppedKeys[i]) {
                throw new IllegalArgumentException("droppedKeys must be strictly ascending, but " + droppedKeys[i - 1]
                        + " comes before " + droppedKeys[i]);
            }
        }
    }

    /** A copy: the record stays immutable. */
    @Override
    public long[] droppedKeys() {
        return droppedKeys.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NearDedupResult r && Arrays.equals(droppedKeys, r.droppedKeys)
                && candidatePairs == r.candidatePairs && confirmedPairs == r.confirmedPairs && clusters == r.clusters;
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(droppedKeys) + Long.hashCode(candidatePairs ^ confirmedPairs ^ clusters);
    }

    @Override
    public String toString() {
        return "NearDedupResult[dropped=" + droppedKeys.length + ", candidatePairs=" + candidatePairs
                + ", confirmedPairs=" + confirmedPairs + ", clusters=" + clusters + "]";
    }
}
