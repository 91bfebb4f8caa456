package ai.aether.cli;

import ai.aether.gguf.GgufFile;
import ai.aether.tokenizer.Tokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.ByteBuffer;
import java.util.concurrent.Callable;

/**
 * {@code aether tokenize}: shows how a model's tokenizer splits text. Works on any GGUF with a
 * tokenizer Aether implements, vocab-only files included.
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Print the tokens a model's tokenizer makes of a text: one 'id<TAB>piece' line per token, or only the ids.")
public final class TokenizeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "FILE", description = "GGUF file whose tokenizer to use.")
    Path model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--prompt", paramLabel = "TEXT", description = "Text to tokenize.")
        String prompt;

        @Option(names = "--file", paramLabel = "PATH", description = "File whose bytes, as UTF-8, are the text (nothing stripped).")
        Path file;
    }

    @Option(names = "--ids", description = "Print only the ids, space-separated, on one line.")
    boolean idsOnly;

    @Option(names = "--no-bos", description = "Add neither BOS nor EOS, whatever the model's flags say.")
    boolean noBos;

    @Option(names = "--special", description = "Parse special-token text such as <|im_start|> as those tokens.")
    boolean parseSpecial;

    @Override
    public Integer call() throws IOException {
        String text = input.prompt != null ? input.prompt : readUtf8(input.file);
        if (!Files.isRegularFile(model)) throw new NoSuchFileException(model + ": no such model file (--model)");
        Tokenizer tokenizer;
        try (GgufFile gguf = GgufFile.open(model)) {
            tokenizer = Tokenizer.fromGguf(gguf);
        }
        int[] ids = tokenizer.encode(text, !noBos, parseSpecial);
        PrintWriter out = spec.commandLine().getOut();
        if (idsOnly) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < ids.length; i++) line.append(i == 0 ? "" : " ").append(ids[i]);
            out.println(line);
        } else {
            for (int id : ids) out.println(id + "\t" + printable(tokenizer, id));
        }
        out.flush();
        return 0;
    }

    /** The token's bytes as quoted text: whole UTF-8 characters as themselves, other bytes as \xNN. */
    static String printable(Tokenizer tokenizer, int id) {
        byte[] bytes = tokenizer.tokenBytes(id, true);
        StringBuilder shown = new StringBuilder("'");
        int i = 0;
        while (i < bytes.length) {
            int length = utf8SequenceLength(bytes, i);
            if (length == 0) {
                shown.append(String.format("\\x%02x", bytes[i] & 0xFF));
                i++;
                continue;
            }
            int cp = new String(bytes, i, length, StandardCharsets.UTF_8).codePointAt(0);
            switch (cp) {
                case '\n' -> shown.append("\\n");
                case '\t' -> shown.append("\\t");
                case '\r' -> shown.append("\\r");
                case '\'' -> shown.append("\\'");
                case '\\' -> shown.append("\\\\");
                default -> {
                    if (Character.isISOControl(cp)) shown.append(String.format("\\x%02x", cp));
                    else shown.appendCodePoint(cp);
                }
            }
            i += length;
        }
        return shown.append("'").toString();
    }

    /** Length of the well-formed UTF-8 sequence at {@code start}, or 0 when the bytes there are not one. */
    private static int utf8SequenceLength(byte[] bytes, int start) {
        int lead = bytes[start] & 0xFF;
        int length = lead < 0x80 ? 1 : lead >= 0xC2 && lead <= 0xDF ? 2 : lead >= 0xE0 && lead <= 0xEF ? 3 : lead >= 0xF0 && lead <= 0xF4 ? 4 : 0;
        if (length == 0 || start + length > bytes.length) return 0;
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, start, length));
            return length;
        } catch (CharacterCodingException e) {
            return 0;
        }
    }

    private static String readUtf8(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file + ": no such file (--file)");
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IOException(file + ": not valid UTF-8 (--file takes UTF-8 text)");
        }
    }
}
