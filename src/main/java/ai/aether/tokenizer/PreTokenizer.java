package ai.aether.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The regex splits a byte-level BPE model applies to text before merging, one entry per
 * {@code tokenizer.ggml.pre} family that llama.cpp knows. Each family is a sequence of regexes;
 * every regex splits every fragment left by the previous one into matches and the text between
 * them (HF tokenizers' {@code Split(..., behavior=Isolated)}), so a lookahead never sees past its
 * fragment.
 *
 * <p>The regexes follow the families' own {@code tokenizer.json} pre-tokenizers (the reference the
 * fixtures are made with), which llama.cpp transcribes: where llama.cpp rewrites a regex for its
 * own engine ({@code (?i:'s|...)} spelt {@code '[sS]|...}; GPT-2's trailing {@code |\s+} handled in
 * code) the original form is used. {@code \s} is Unicode White_Space, as in Oniguruma.
 */
public enum PreTokenizer {
    /** GPT-2, also MPT, OLMo, phi-2. */
    GPT2("gpt-2", raw(Regexes.GPT2)),
    /** Llama 3: contractions case-insensitive, digits in groups of up to three. */
    LLAMA3("llama-bpe", raw(Regexes.LLAMA3)),
    /** StarCoder: every digit alone, then GPT-2. */
    STARCODER("starcoder", raw("\\p{N}"), raw(Regexes.GPT2)),
    /** Refact: as StarCoder. */
    REFACT("refact", raw("\\p{N}"), raw(Regexes.GPT2)),
    /** SmolLM / SmolLM2: as StarCoder. */
    SMOLLM("smollm", raw("\\p{N}"), raw(Regexes.GPT2)),
    /** Qwen2: Llama 3 with single digits. */
    QWEN2("qwen2", raw(Regexes.QWEN2)),
    // The letter class is Unicode's cased letters; U+1F7D, U+1FBE, U+1FD3, U+1FDB, U+2126 and U+212A are
    // escaped because normalisation (NFC) folds them into other code points and would break the ranges.
    DEEPSEEK_LLM("deepseek-llm",
            raw("[\\r\\n]"),
            raw("\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\u1f7dᾀ-ᾴᾶ-ᾼ\u1fbeῂ-ῄῆ-ῌῐ-\u1fd3ῖ-\u1fdbῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\u2126ℨ\u212a-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+"),
            raw("\\s?[!-/:-~！-／：-～‘-‟　-。]+"),
            raw("\\s+\\z"), // Oniguruma's $ is end of line; no newline is left in a fragment here
            raw("[一-龥ࠀ-一가-퟿]+"),
            raw("\\p{N}+")),
    DEEPSEEK_CODER("deepseek-coder",
            raw("[\\r\\n]"),
            raw("\\s?\\p{L}+"),
            raw("\\s?\\p{P}+"),
            raw("[一-龥ࠀ-一가-퟿]+"),
            raw("\\p{N}")),
    /**
     * Falcon: punctuation runs (Unicode P plus ASCII symbols), GPT-2, then digit runs and digit
     * triples. Falcon's tokenizer.json splits digits after the byte-level step, so those two run on
     * the byte spelling (where the bytes B2, B3, B9, BC-BE read as the numerals ², ³, ¹, ¼-¾); llama.cpp
     * runs them on the text and leaves out the digit-run step.
     */
    FALCON("falcon", raw("[\\p{P}$+<=>^~|`]+"), raw(Regexes.GPT2), bytes("\\p{N}+"), bytes("[0-9][0-9][0-9]")),
    /** llama.cpp's fallback for BPE models that declare {@code default} (no tokenizer.json exists for it). */
    DEFAULT("default", raw("[\\p{P}$+<=>^~|]+"), raw(Regexes.GPT2), raw("\\p{N}+"), raw("[0-9][0-9][0-9]"));

    /** One regex split, run on the text or on its byte-level spelling. */
    private record Step(Pattern pattern, boolean onBytes) {
    }

    private static Step raw(String regex) {
        return new Step(Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS), false);
    }

    private static Step bytes(String regex) {
        return new Step(Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS), true);
    }

    private static final class Regexes {
        static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
        static final String LLAMA3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
                + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
        static final String QWEN2 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
                + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    }

    /** The other {@code tokenizer.ggml.pre} spellings llama.cpp maps onto these families. */
    private static final String[][] ALIASES = {
            {"llama3", "LLAMA3"}, {"llama-v3", "LLAMA3"}, {"falcon3", "LLAMA3"}, {"dbrx", "LLAMA3"}, {"smaug-bpe", "LLAMA3"},
            {"phi-2", "GPT2"}, {"mpt", "GPT2"}, {"olmo", "GPT2"}, {"roberta-bpe", "GPT2"},
            {"stablelm2", "QWEN2"}, {"megrez", "QWEN2"},
            {"codeshell", "STARCODER"}, {"command-r", "STARCODER"},
    };

    private final String ggufName;
    private final Step[] steps;

    PreTokenizer(String ggufName, Step... steps) {
        this.ggufName = ggufName;
        this.steps = steps;
    }

    /** The name this family has in {@code tokenizer.ggml.pre}. */
    public String ggufName() {
        return ggufName;
    }

    /** Whether merges are skipped for a word that is itself a token (llama.cpp's {@code ignore_merges}). */
    boolean ignoresMerges() {
        return this == LLAMA3;
    }

    /**
     * The family for a {@code tokenizer.ggml.pre} value.
     *
     * @throws IllegalArgumentException naming the value and the known names when it is unknown
     */
    public static PreTokenizer forGgufName(String name) {
        for (PreTokenizer family : values()) if (family.ggufName.equals(name)) return family;
        for (String[] alias : ALIASES) if (alias[0].equals(name)) return valueOf(alias[1]);
        String known = Arrays.stream(values()).map(PreTokenizer::ggufName).collect(Collectors.joining(", "))
                + ", " + Arrays.stream(ALIASES).map(alias -> alias[0]).collect(Collectors.joining(", "));
        throw new IllegalArgumentException("tokenizer.ggml.pre '" + name + "' is not a pre-tokenizer Aether knows (known: "
                + known + ")");
    }

    /**
     * Splits {@code text} into the words BPE merges within, each spelt in byte-level characters
     * (GPT-2's byte-to-unicode map); together they spell the UTF-8 bytes of {@code text}.
     */
    public List<String> split(String text) {
        List<String> fragments = new ArrayList<>();
        if (text.isEmpty()) return fragments;
        fragments.add(text);
        boolean spelled = false;
        for (Step step : steps) {
            if (step.onBytes() && !spelled) {
                fragments.replaceAll(ByteLevel::encode);
                spelled = true;
            }
            List<String> next = new ArrayList<>(fragments.size() * 2);
            for (String fragment : fragments) splitIsolated(step.pattern(), fragment, next);
            fragments = next;
        }
        if (!spelled) fragments.replaceAll(ByteLevel::encode);
        return fragments;
    }

    private static void splitIsolated(Pattern pattern, String fragment, List<String> out) {
        Matcher matcher = pattern.matcher(fragment);
        int last = 0;
        while (matcher.find()) {
            if (matcher.end() == matcher.start()) continue; // empty matches split nothing
            if (matcher.start() > last) out.add(fragment.substring(last, matcher.start()));
            out.add(fragment.substring(matcher.start(), matcher.end()));
            last = matcher.end();
        }
        if (last < fragment.length()) out.add(fragment.substring(last));
    }
}
