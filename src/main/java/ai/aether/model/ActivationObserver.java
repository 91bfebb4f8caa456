package ai.aether.model;

/**
 * Sees the named intermediates of a forward pass (like llama.cpp's {@code cb(tensor, name, layer)}),
 * for debugging, activation dumps and evaluation. The array is the live buffer: copy what you
 * keep. Names, per layer in order: {@code attn_norm}, {@code q}, {@code k}, {@code v} (after bias
 * and RoPE), {@code attn_out} (attention output before Wo), {@code ffn_inp} (residual after
 * attention), {@code ffn_norm}, {@code ffn_act} (silu(gate) * up), {@code l_out} (residual after
 * the layer); then {@code result_norm} with layer -1 (last token only).
 */
@FunctionalInterface
public interface ActivationObserver {

    /**
     * @param data   [tokens][width] starting at index 0
     * @param layer  layer index, or -1 for model-level tensors
     */
    void onActivation(String name, int layer, float[] data, int tokens, int width);
}
