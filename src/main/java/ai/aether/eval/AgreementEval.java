package ai.aether.eval;

import ai.aether.engine.LLM;
import ai.aether.engine.SideBySide;
import ai.aether.engine.SideBySide.Prefilled;
import ai.aether.engine.SideBySide.Setting;

import java.util.ArrayList;
import java.util.List;

/**
 * Agreement of greedy decoding with dense over long prompts, measured two ways from one prefill
 * per prompt:
 * <ul>
 *   <li><b>teacher-forced</b>: at every position of dense's greedy continuation, does the setting
 *   pick the same next token from the same history? (The headline number: one early difference
 *   does not count against every later token.) Also the mean KL(dense || setting).</li>
 *   <li><b>free-running</b>: each setting generates on its own; tokens identical before the first
 *   difference, and the share of equal positions.</li>
 * </ul>
 */
public final class AgreementEval {

    /** One setting's agreement on one prompt. */
    public record Result(String setting, int prompt, int promptTokens, int steps, int teacherForcedAgreeing, double meanKl,
                         int freeRunningPrefix, double freeRunningAgreement, double sparsity) {
        public double teacherForcedShare() {
            return steps == 0 ? 1 : (double) teacherForcedAgreeing / steps;
        }
    }

    private AgreementEval() {}

    /**
     * @param prompts token ids of each long prompt
     * @param steps   tokens generated / compared per prompt
     * @param settings the settings to compare with dense (dense itself need not be listed)
     */
    public static List<Result> run(LLM llm, List<int[]> prompts, int steps, List<Setting> settings, EvalProgress progress) {
        List<Setting> withDense = new ArrayList<>();
        withDense.add(Setting.dense());
        for (Setting s : settings) if (s.config() != null) withDense.add(s);
        progress.begin("agreement", prompts.size());
        List<Result> results = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            int[] prompt = prompts.get(i);
            try (Prefilled p = Prefilled.of(llm, prompt, steps + 6, SideBySide.baseConfig(withDense))) {
                List<SideBySide.Agreement> forced = SideBySide.teacherForced(p, steps, withDense);
                SideBySide.Outcome free = SideBySide.run(p, steps, withDense, null, false);
                SideBySide.Run dense = free.runs().getFirst();
                for (int s = 1; s < withDense.size(); s++) {
                    SideBySide.Run run = free.runs().get(s);
                    SideBySide.Agreement a = forced.get(s);
                    results.add(new Result(withDense.get(s).name(), i, prompt.length, steps, a.agreeing(), a.meanKl(),
                            run.commonPrefix(dense), run.agreementWith(dense), run.attention().sparsity()));
                }
            }
            progress.advance("prompt " + (i + 1) + " (" + prompt.length + " tokens)");
        }
        return results;
    }
}
