package ai.aether.cli;

import picocli.CommandLine;

/**
 * Turns exceptions into one clear line on stderr and exit code 1. User-facing errors
 * (IllegalArgumentException, IOException and subclasses such as format errors) carry messages
 * that name the problem; a stack trace is printed only with AETHER_DEBUG=1.
 */
final class CliErrors implements CommandLine.IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, CommandLine.ParseResult parsed) {
        String message = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
        cmd.getErr().println(commandPath(cmd) + ": " + message);
        if (System.getenv("AETHER_DEBUG") != null) ex.printStackTrace(cmd.getErr());
        return 1;
    }

    /** "aether generate", "aether eval passkey": the subcommands below the root. */
    private static String commandPath(CommandLine cmd) {
        StringBuilder path = new StringBuilder(cmd.getCommandName());
        for (CommandLine c = cmd.getParent(); c != null && c.getParent() != null; c = c.getParent()) path.insert(0, c.getCommandName() + " ");
        return "aether " + path;
    }
}
