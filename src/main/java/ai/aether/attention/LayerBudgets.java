package ai.aether.attention;

/** How TARGET_SPARSITY spreads its block budget over the layers. */
public enum LayerBudgets {
    /** Every layer keeps the same share of its blocks ({@code 1 - targetSparsity}). */
    UNIFORM,
    /**
     * The default. The same total, spread by {@link LayerBudgetCalibration}: more blocks to layers
     * whose attention error moves the model's output most (the model's layer-sensitivity profile,
     * else a probe of the prompt) and where the radar's choice changes the attention output most
     * (error curves from the prompt's last queries).
     */
    CALIBRATED
}
