package io.sparkseek.model.optim;

/**
 * Learning rate per step: linear warmup from 0 to {@code peak} over {@code warmupSteps}, then cosine decay to
 * {@code min} at {@code totalSteps} (or constant when {@code cosine} is false). Step numbers start at 0.
 */
public record LrSchedule(double peak, double min, long warmupSteps, long totalSteps, boolean cosine) {

    public LrSchedule {
        if (!(peak > 0)) {
            throw new IllegalArgumentException("sparkseek.train.lr must be > 0, got " + peak);
        }
        if (min < 0 || min > peak) {
            throw new IllegalArgumentException("sparkseek.train.minLr must be in [0, lr], got " + min);
        }
        if (warmupSteps < 0 || totalSteps < 1) {
            throw new IllegalArgumentException("warmup steps must be >= 0 and total steps >= 1, got "
                    + warmupSteps + " and " + totalSteps);
        }
    }

    public double lr(long step) {
        if (step < warmupSteps) {
            return peak * (step + 1) / (double) warmupSteps;
        }
        if (!cosine || totalSteps <= warmupSteps) {
            return peak;
        }
        double progress = Math.min(1.0, (step - warmupSteps) / (double) (totalSteps - warmupSteps));
        return min + 0.5 * (peak - min) * (1 + Math.cos(Math.PI * progress));
    }
}
