package ai.aether.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code aether} command line. Each subcommand lives in its own class. */
@Command(name = "aether",
        mixinStandardHelpOptions = true,
        version = "aether 0.1.0",
        description = "Long-context LLM inference in Java with AETHER block-sparse attention.",
        subcommands = {
                CommandLine.HelpCommand.class,
                InspectCommand.class,
                TokenizeCommand.class,
                ModelsCommand.class,
                GenerateCommand.class,
                ChatCommand.class,
                BenchCommand.class,
                DemoCommand.class,
                E2eCommand.class,
                EvalCommand.class,
                CalibrateCommand.class,
        })
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured picocli command line (exposed for tests). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler(new CliErrors());
        cl.setCaseInsensitiveEnumValuesAllowed(true);  // --kv int8, --selection top_k: as the help lists them or in lower case
        return cl;
    }
}
