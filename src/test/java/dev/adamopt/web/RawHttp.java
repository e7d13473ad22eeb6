package dev.adamopt.web;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 by hand over a loopback socket, for what an HTTP client library will not send: malformed request lines,
 * invalid URLs, oversized headers, bodies that stall halfway or never end.
 */
public final class RawHttp implements AutoCloseable {

	private final Socket socket;

	private final InputStream in;

	private final OutputStream out;

	private RawHttp(Socket socket) throws IOException {
		this.socket = socket;
		this.in = socket.getInputStream();
		this.out = socket.getOutputStream();
	}

	/** A connection to 127.0.0.1:{@code port}; reads give up after {@code readTimeout}. */
	public static RawHttp connect(int port, Duration readTimeout) throws IOException {
		Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
		socket.setSoTimeout((int) readTimeout.toMillis());
		return new RawHttp(socket);
	}

	/** Sends one request on a fresh connection and reads the answer. */
	public static Response exchange(int port, String request) throws IOException {
		try (RawHttp http = connect(port, Duration.ofSeconds(30))) {
			http.send(request);
			return http.read();
		}
	}

	public RawHttp send(String text) throws IOException {
		return send(text.getBytes(StandardCharsets.ISO_8859_1));
	}

	public RawHttp send(byte[] bytes) throws IOException {
		this.out.write(bytes);
		this.out.flush();
		return this;
	}

	/** One chunk of a chunked body ({@code ""} ends the body). */
	public RawHttp chunk(String data) throws IOException {
		byte[] bytes = data.getBytes(StandardCharsets.UTF_8);
		return send(Integer.toHexString(bytes.length) + "\r\n" + data + "\r\n");
	}

	/** The next answer on this connection. */
	public Response read() throws IOException {
		String statusLine = line();
		if (statusLine == null) {
			throw new IOException("the server closed the connection without answering");
		}
		int status = Integer.parseInt(statusLine.split(" ")[1]);
		Map<String, List<String>> headers = new LinkedHashMap<>();
		for (String line = line(); line != null && !line.isEmpty(); line = line()) {
			int colon = line.indexOf(':');
			headers.computeIfAbsent(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
				.add(line.substring(colon + 1).trim());
		}
		Response head = new Response(status, headers, "");
		byte[] body;
		if (head.header("content-length") != null) {
			body = this.in.readNBytes(Integer.parseInt(head.header("content-length")));
		}
		else if ("chunked".equalsIgnoreCase(head.header("transfer-encoding"))) {
			ByteArrayOutputStream chunks = new ByteArrayOutputStream();
			for (int size = Integer.parseInt(line().trim(), 16); size > 0; size = Integer.parseInt(line().trim(), 16)) {
				chunks.write(this.in.readNBytes(size));
				line();
			}
			line();
			body = chunks.toByteArray();
		}
		else if (status == 204 || status == 304) {
			body = new byte[0];
		}
		else {
			body = this.in.readAllBytes();
		}
		return new Response(status, headers, new String(body, StandardCharsets.UTF_8));
	}

	/** At most {@code max} bytes of what the server sent, as text: at least one byte, once it arrives. */
	public String readSome(int max) throws IOException {
		byte[] buffer = new byte[max];
		int n = this.in.read(buffer);
		return (n < 0) ? "" : new String(buffer, 0, n, StandardCharsets.ISO_8859_1);
	}

	/** Closes the connection with a reset, as a client that crashed or gave up does. */
	public void abort() throws IOException {
		this.socket.setSoLinger(true, 0);
		this.socket.close();
	}

	/**
	 * Whether the server closed the connection: reads until end of stream (discarding what comes) or until
	 * {@code within} passes.
	 */
	public boolean closedByServer(Duration within) throws IOException {
		this.socket.setSoTimeout((int) within.toMillis());
		try {
			byte[] discard = new byte[8192];
			while (this.in.read(discard) >= 0) {
				// what the server still sends does not matter here
			}
			return true;
		}
		catch (SocketTimeoutException ex) {
			return false;
		}
		catch (IOException reset) {
			return true;
		}
	}

	private String line() throws IOException {
		ByteArrayOutputStream line = new ByteArrayOutputStream();
		int b;
		while ((b = this.in.read()) >= 0 && b != '\n') {
			if (b != '\r') {
				line.write(b);
			}
		}
		return (b < 0 && line.size() == 0) ? null : line.toString(StandardCharsets.ISO_8859_1);
	}

	@Override
	public void close() throws IOException {
		this.socket.close();
	}

	/** An answer: header names in lower case. */
	public record Response(int status, Map<String, List<String>> headers, String body) {

		public String header(String name) {
			List<String> values = this.headers.get(name.toLowerCase(Locale.ROOT));
			return (values == null) ? null : values.get(0);
		}

	}

}
