package io.sparkseek.jobs.train;

import io.sparkseek.jobs.config.RunConfig;
import io.sparkseek.model.layer.DeepSeekModel;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What {@link StageRunner} exposes is enough for an exact resume: N stages straight equal N/2 stages, the state
 * copied into a fresh runner (as a checkpoint would), and N/2 more — bit for bit, in every mode.
 */
class ResumeStateTest extends SparkTrainTestBase {

    private static void assertResumeIsExact(RunConfig run) {
        StageRunner straight = new StageRunner(tiny(), run, SEQ_LEN, pattern(run.seed()));
        runAll(straight, run);
        straight.close();

        long half = run.stages() / 2;
        StageRunner first = new StageRunner(tiny(), run, SEQ_LEN, pattern(run.seed()));
        for (long s = 0; s < half; s++) {
            first.runStage(sc, s);
        }
        first.close();
        // what a checkpoint stores: master weights + biases, optimizer state, per-replica inner state, the stage
        ModelState weights = ModelState.of(first.model());
        Map<String, float[]> moments = first.adamW() != null ? first.adamW().moments() : null;
        Map<String, float[]> velocity = first.outer() != null ? first.outer().velocity() : null;
        Map<Integer, Map<String, float[]>> inner = first.innerStates();

        StageRunner resumed = new StageRunner(tiny(), run, SEQ_LEN, pattern(run.seed()));
        weights.loadInto(resumed.model());
        if (moments != null) {
            resumed.adamW().restore(moments, half);
        }
        if (velocity != null) {
            resumed.outer().restore(velocity, half);
        }
        resumed.resumeAt(half, inner);
        for (long s = half; s < run.stages(); s++) {
            resumed.runStage(sc, s);
        }
        resumed.close();
        DeepSeekModel a = straight.model();
        assertThat(bitIdentical(a, resumed.model())).as("%s %s", run.mode(), run.innerState()).isTrue();
    }

    @Test
    void syncResumesBitExactly() {
        assertResumeIsExact(new Run().replicas(2).stages(4).build());
    }

    @Test
    void localResumesBitExactlyWithResetAndCarriedInnerState() {
        for (RunConfig.InnerState inner : RunConfig.InnerState.values()) {
            assertResumeIsExact(new Run().mode(RunConfig.Mode.LOCAL, 2).inner(inner).replicas(2).stages(4).build());
        }
    }

    @Test
    void stagesRunInOrderOnly() {
        RunConfig run = new Run().replicas(2).stages(2).build();
        StageRunner runner = new StageRunner(tiny(), run, SEQ_LEN, pattern(run.seed()));
        assertThatThrownBy(() -> runner.runStage(sc, 1)).hasMessageContaining("state is at stage 0");
        runner.resumeAt(1, Map.of());
        assertThatThrownBy(() -> runner.runStage(sc, 1)).hasMessageContaining("AdamW has taken 0 steps");
        runner.close();
        RunConfig local = new Run().mode(RunConfig.Mode.LOCAL, 2).replicas(2).stages(2).build();
        StageRunner outer = new StageRunner(tiny(), local, SEQ_LEN, pattern(run.seed()));
        outer.resumeAt(1, Map.of());
        assertThatThrownBy(() -> outer.runStage(sc, 1)).hasMessageContaining("outer optimizer has taken 0 steps");
        outer.close();
    }
}
