package ai.aether.tokenizer;

import ai.aether.tokenizer.ChatTemplate.ChatMessage;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Chat templates render as transformers' apply_chat_template does (fixture chat_templates.json). */
class ChatTemplateTest {

    @TestFactory
    Stream<DynamicTest> rendersAsTransformersAndEncodesToTheReferenceIds() {
        JsonNode fixture = SharedFiles.fixture("chat_templates");
        List<DynamicTest> tests = new ArrayList<>();
        int index = 0;
        for (JsonNode testCase : fixture.get("cases")) {
            String file = testCase.get("file").asText();
            List<ChatMessage> messages = new ArrayList<>();
            testCase.get("messages").forEach(m -> messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText())));
            boolean addGenerationPrompt = testCase.get("add_generation_prompt").asBoolean();
            String expectedText = testCase.get("text").asText();
            int[] expectedIds = SharedFiles.ids(testCase.get("ids"));
            tests.add(DynamicTest.dynamicTest("#" + index++ + " " + file + " generation prompt " + addGenerationPrompt, () -> {
                Tokenizer tokenizer = TokenizerCache.get(file);
                String rendered = tokenizer.chatTemplate().render(messages, addGenerationPrompt);
                assertEquals(expectedText, rendered);
                assertArrayEquals(expectedIds, tokenizer.encode(rendered, false, true));
            }));
        }
        return tests.stream();
    }

    @Test
    void chatMlFallbackForModelsWithoutTemplate() {
        ChatTemplate chatMl = new ChatTemplate(ChatTemplate.CHATML, "", "");
        assertEquals("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
                chatMl.render(List.of(ChatMessage.user("Hi")), true));
        assertEquals("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n",
                chatMl.render(List.of(ChatMessage.system("S"), ChatMessage.user("U")), false));
    }

    @Test
    void modelWithoutTemplateGetsChatMl() {
        Tokenizer stories = TokenizerCache.get(SharedFiles.STORIES);
        assertTrue(stories.vocabulary().chatTemplate().isEmpty());
        assertEquals(ChatTemplate.CHATML, stories.chatTemplate().source());
    }

    @Test
    void bosAndEosTokensAreVariablesAndRaiseExceptionFails() {
        ChatTemplate template = new ChatTemplate(
                "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'tool' %}{{ raise_exception('no tools: ' + m['content']) }}"
                        + "{% endif %}{{ m['content'] }}{{ eos_token }}{% endfor %}", "<s>", "</s>");
        assertEquals("<s>a</s>b</s>", template.render(List.of(ChatMessage.user("a"), ChatMessage.assistant("b")), false));
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> template.render(List.of(new ChatMessage("tool", "x")), false));
        assertTrue(error.getMessage().contains("no tools: x"), error.getMessage());
    }
}
