package ai.aether.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Token ids equal the reference tokenizers' (sentencepiece for SentencePiece vocabularies, HF
 * tokenizers with each family's pre-tokenizer for byte-level BPE) on the hard input set, for every
 * tokenizer file in ../shared. Fixtures: scripts/oracle/tokenizer_fixtures.py.
 */
class TokenizerOracleTest {

    @TestFactory
    Stream<DynamicContainer> idsEqualTheReferenceForEveryFile() {
        return Arrays.stream(SharedFiles.FIXTURES).map(name -> {
            JsonNode fixture = SharedFiles.fixture(name);
            String file = fixture.get("file").asText();
            List<DynamicTest> tests = new ArrayList<>();
            int index = 0;
            for (JsonNode testCase : fixture.get("cases")) {
                String text = testCase.get("text").asText();
                boolean addSpecial = testCase.get("add_special").asBoolean();
                boolean parseSpecial = testCase.get("parse_special").asBoolean();
                int[] expected = SharedFiles.ids(testCase.get("ids"));
                String label = "#" + index++ + (addSpecial ? " +bos/eos" : "") + (parseSpecial ? " +special" : "") + " " + quote(text);
                tests.add(DynamicTest.dynamicTest(label, () -> {
                    Tokenizer tokenizer = TokenizerCache.get(file);
                    assertArrayEquals(expected, tokenizer.encode(text, addSpecial, parseSpecial),
                            () -> file + " on " + quote(text));
                }));
            }
            return DynamicContainer.dynamicContainer(name, tests);
        });
    }

    @TestFactory
    Stream<DynamicTest> preTokenizerSplitsEqualTheReference() {
        JsonNode fixture = SharedFiles.fixture("pretokenizers");
        JsonNode inputs = fixture.get("inputs");
        List<DynamicTest> tests = new ArrayList<>();
        fixture.get("families").properties().forEach(family -> {
            PreTokenizer preTokenizer = PreTokenizer.forGgufName(family.getKey());
            JsonNode splits = family.getValue().get("splits");
            tests.add(DynamicTest.dynamicTest(family.getKey() + " splits", () -> {
                for (int i = 0; i < inputs.size(); i++) {
                    String text = inputs.get(i).asText();
                    List<String> expected = new ArrayList<>();
                    splits.get(i).forEach(word -> expected.add(word.asText()));
                    assertEquals(expected, preTokenizer.split(text), () -> family.getKey() + " on " + quote(text));
                }
            }));
            JsonNode ids = family.getValue().get("gpt2_vocab_ids");
            if (ids != null) {
                tests.add(DynamicTest.dynamicTest(family.getKey() + " ids with the GPT-2 vocabulary", () -> {
                    Tokenizer tokenizer = Tokenizer.create(SharedFiles.withPreTokenizer(
                            SharedFiles.vocabulary(SharedFiles.GPT2_VOCAB), family.getKey()));
                    for (int i = 0; i < inputs.size(); i++) {
                        String text = inputs.get(i).asText();
                        assertArrayEquals(SharedFiles.ids(ids.get(i)), tokenizer.encode(text, false, false),
                                () -> family.getKey() + " on " + quote(text));
                    }
                }));
            }
        });
        return tests.stream();
    }

    static String quote(String text) {
        StringBuilder quoted = new StringBuilder("\"");
        text.codePoints().limit(40).forEach(cp -> {
            if (cp == '\n') quoted.append("\\n");
            else if (cp == '\t') quoted.append("\\t");
            else if (cp < 0x20 || cp == 0x7f) quoted.append(String.format("\\x%02x", cp));
            else quoted.appendCodePoint(cp);
        });
        return quoted.append(text.codePointCount(0, text.length()) > 40 ? "...\"" : "\"").toString();
    }
}
