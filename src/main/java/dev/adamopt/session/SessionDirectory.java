package dev.adamopt.session;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The directory of session files, {@code <id>.session}, one per session. A file is replaced atomically: written to a
 * temporary file, forced to disk, renamed over the old one, and the directory forced too, so that after a crash a
 * session's file is either the old one or the new one, whole. While open, the directory belongs to this process (a
 * lock on its {@code .lock} file), so that two services never write the same files.
 */
final class SessionDirectory implements AutoCloseable {

	static final String SUFFIX = ".session";

	/** What a file that cannot be read is renamed to end with. */
	static final String CORRUPT_SUFFIX = ".corrupt";

	private static final String TEMPORARY_SUFFIX = ".session.tmp";

	/** Present while no service has the directory open after one stopped cleanly, having written every session. */
	private static final String CLEAN_MARK = ".clean-shutdown";

	/** Session ids are UUIDs; anything else is refused as a file name (no path can be smuggled in). */
	private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,127}");

	private static final boolean WINDOWS = System.getProperty("os.name", "").startsWith("Windows");

	private final Path path;

	private final SessionFile format;

	private final FileChannel lockChannel;

	private SessionDirectory(Path path, SessionFile format, FileChannel lockChannel) {
		this.path = path;
		this.format = format;
		this.lockChannel = lockChannel;
	}

	/**
	 * Opens the directory, creating it when missing, and takes it for this process; temporary files a crash left
	 * behind are deleted.
	 * @throws IOException if it cannot be created or written, or another process has it
	 */
	static SessionDirectory open(Path path, SessionFile format) throws IOException {
		Path directory = path.toAbsolutePath().normalize();
		Files.createDirectories(directory);
		if (!Files.isWritable(directory)) {
			throw new IOException("session directory " + directory + " is not writable by this process");
		}
		FileChannel channel = FileChannel.open(directory.resolve(".lock"), StandardOpenOption.CREATE,
				StandardOpenOption.WRITE);
		FileLock lock;
		try {
			lock = channel.tryLock();
		}
		catch (OverlappingFileLockException ex) {
			lock = null;
		}
		if (lock == null) {
			channel.close();
			throw new IOException("session directory " + directory + " is in use by another service process "
					+ "(it holds " + directory.resolve(".lock") + "); give each process a directory of its own");
		}
		channel.truncate(0);
		channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)));
		try (DirectoryStream<Path> leftovers = Files.newDirectoryStream(directory, "*" + TEMPORARY_SUFFIX)) {
			for (Path leftover : leftovers) {
				Files.deleteIfExists(leftover);
			}
		}
		return new SessionDirectory(directory, format, channel);
	}

	Path path() {
		return this.path;
	}

	/** Replaces the session's file with this content, atomically and durably. */
	void write(PersistedSession session) throws IOException {
		Path target = fileOf(session.id());
		Path temporary = this.path.resolve(session.id() + TEMPORARY_SUFFIX);
		try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE,
				StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
			OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel), 64 * 1024);
			this.format.write(session, out);
			out.flush();
			channel.force(true);
		}
		catch (IOException | RuntimeException ex) {
			deleteQuietly(temporary, ex);
			throw ex;
		}
		try {
			Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
		}
		catch (IOException ex) {
			deleteQuietly(temporary, ex);
			throw ex;
		}
		sync();
	}

	/**
	 * Deletes the session's file, if there is one.
	 * @param durably also force the directory to disk, so that the file cannot come back after a crash of the machine
	 */
	void delete(String id, boolean durably) throws IOException {
		if (Files.deleteIfExists(fileOf(id)) && durably) {
			sync();
		}
	}

	/** Notes that every session has been written as the service stops: the next start finds them as they were. */
	void markClean() throws IOException {
		Files.write(this.path.resolve(CLEAN_MARK), new byte[0]);
		sync();
	}

	/**
	 * Whether the last service to use the directory stopped cleanly ({@link #markClean}); removes the mark, so that
	 * a crash from now on is noticed.
	 */
	boolean takeCleanMark() throws IOException {
		boolean clean = Files.deleteIfExists(this.path.resolve(CLEAN_MARK));
		if (clean) {
			sync();
		}
		return clean;
	}

	/** The session files, in no particular order. */
	List<Path> files() throws IOException {
		List<Path> files = new ArrayList<>();
		try (DirectoryStream<Path> stream = Files.newDirectoryStream(this.path, "*" + SUFFIX)) {
			stream.forEach(files::add);
		}
		return files;
	}

	/**
	 * Reads a session file.
	 * @throws SessionFile.CorruptException if it is not a whole session file, or holds another session than its
	 * name says
	 * @throws IOException if it cannot be read
	 */
	PersistedSession read(Path file) throws IOException {
		PersistedSession session;
		try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 64 * 1024)) {
			session = this.format.read(in, Files.size(file));
		}
		if (!file.getFileName().toString().equals(session.id() + SUFFIX)) {
			throw new SessionFile.CorruptException("it holds session '" + OptimizerSession.abbreviate(session.id())
					+ "', not the one its name says");
		}
		return session;
	}

	/**
	 * Renames a file that cannot be read to {@code <name>.corrupt} (or {@code <name>.corrupt.<n>}), out of the way of
	 * later starts but kept for inspection.
	 * @return the new name
	 */
	Path setAside(Path file) throws IOException {
		Path target = file.resolveSibling(file.getFileName() + CORRUPT_SUFFIX);
		for (int n = 1; Files.exists(target); n++) {
			target = file.resolveSibling(file.getFileName() + CORRUPT_SUFFIX + "." + n);
		}
		Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
		sync();
		return target;
	}

	/** The session's file (whether or not it exists). */
	Path fileOf(String id) {
		if (!ID.matcher(id).matches()) {
			throw new IllegalArgumentException("not a session id: '" + OptimizerSession.abbreviate(id) + "'");
		}
		return this.path.resolve(id + SUFFIX);
	}

	/** Forces the directory's entries (a rename, a deletion) to disk. */
	private void sync() throws IOException {
		if (WINDOWS) {
			// Windows cannot open a directory as a file; NTFS journals renames itself
			return;
		}
		try (FileChannel directory = FileChannel.open(this.path, StandardOpenOption.READ)) {
			directory.force(true);
		}
	}

	private static void deleteQuietly(Path file, Exception cause) {
		try {
			Files.deleteIfExists(file);
		}
		catch (IOException ex) {
			cause.addSuppressed(ex);
		}
	}

	/** Gives the directory up: another process may take it from now on. */
	@Override
	public void close() throws IOException {
		// closing the channel releases the lock
		this.lockChannel.close();
	}

}
