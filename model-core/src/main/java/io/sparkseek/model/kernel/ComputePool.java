package io.sparkseek.model.kernel;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fixed pool of compute threads, sized by config ({@code sparkseek.compute.threads}) and passed explicitly
 * to every kernel. Work is split over independent outputs only, so results never depend on the thread count:
 * a reduction is always done by one thread in a fixed order.
 *
 * <p>The calling thread takes part in the work; with {@code threads == 1} everything runs inline.
 */
public final class ComputePool implements AutoCloseable {

    /** Body of a parallel loop over the half-open index range {@code [lo, hi)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int lo, int hi);
    }

    private final int threads;
    private final ExecutorService executor;
    /**
     * True on a thread while it runs a chunk of this pool's work (the pool's own threads always): a nested
     * {@link #parallelFor} there runs inline, since waiting for chunks queued behind the busy threads would
     * deadlock (e.g. a kernel called with the pool from inside {@link #forEachDynamic}).
     */
    private final ThreadLocal<Boolean> inWork = ThreadLocal.withInitial(() -> Boolean.FALSE);

    public ComputePool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("sparkseek.compute.threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        if (threads == 1) {
            this.executor = null;
        } else {
            AtomicInteger n = new AtomicInteger();
            ThreadFactory factory = r -> {
                Runnable marked = () -> {
                    inWork.set(Boolean.TRUE);
                    r.run();
                };
                Thread t = new Thread(marked, "sparkseek-compute-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            };
            this.executor = Executors.newFixedThreadPool(threads - 1, factory);
        }
    }

    /** A single-threaded pool: handy for tests and references. */
    public static ComputePool serial() {
        return new ComputePool(1);
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over {@code [0, n)} split into contiguous chunks, at most one chunk per thread
     * (never chunks smaller than {@code minChunk}). Returns when all chunks are done; rethrows the first failure.
     * Called from inside work already running in this pool, it runs the whole range inline.
     */
    public void parallelFor(int n, int minChunk, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int chunks = Math.min(threads, Math.max(1, n / Math.max(1, minChunk)));
        if (chunks <= 1 || executor == null || inWork.get()) {
            body.run(0, n);
            return;
        }
        List<Future<?>> futures = new ArrayList<>(chunks - 1);
        int per = (n + chunks - 1) / chunks;
        for (int c = 1; c < chunks; c++) {
            int lo = c * per;
            int hi = Math.min(n, lo + per);
            if (lo >= hi) {
                break;
            }
            futures.add(executor.submit(() -> body.run(lo, hi)));
        }
        Throwable failure = null;
        inWork.set(Boolean.TRUE);
        try {
            body.run(0, Math.min(n, per));
        } catch (RuntimeException | Error e) {
            failure = e;
        } finally {
            inWork.set(Boolean.FALSE);
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (ExecutionException e) {
                if (failure == null) {
                    failure = e.getCause();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (failure == null) {
                    failure = e;
                }
            }
        }
        if (failure instanceof RuntimeException re) {
            throw re;
        } else if (failure instanceof Error err) {
            throw err;
        } else if (failure != null) {
            throw new IllegalStateException("compute task failed", failure);
        }
    }

    /**
     * Runs {@code count} independent tasks (indices {@code 0..count-1}) with dynamic scheduling: each thread
     * takes the next index. Use for uneven work such as experts; each index must write disjoint outputs.
     */
    public void forEachDynamic(int count, java.util.function.IntConsumer task) {
        if (count <= 0) {
            return;
        }
        if (executor == null || count == 1) {
            for (int i = 0; i < count; i++) {
                task.accept(i);
            }
            return;
        }
        AtomicInteger next = new AtomicInteger();
        parallelFor(threads, 1, (lo, hi) -> {
            for (int w = lo; w < hi; w++) {
                for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
                    task.accept(i);
                }
            }
        });
    }

    @Override
    public void close() {
        if (executor != null) {
            executor.shutdownNow();
        }
    }
}
