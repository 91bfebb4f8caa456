package ai.aether.attention;

/** How TARGET_SPARSITY spreads its block budget over the layers. */
public enum LayerBudgets {
    /** Every layer keeps the same share of its blocks ({@code 1 - targetSparsity}). */
    UNIFORM,
    /**
     * The same total, spread by {@link LayerBudgetCalibration} from the prompt's last queries: more
     * blocks where the radar's choice changes the attention output most, fewer where it does not.
     */
    CALIBRATED
}
