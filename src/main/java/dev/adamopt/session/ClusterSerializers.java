package dev.adamopt.session;

import java.io.IOException;

import com.hazelcast.config.SerializationConfig;
import com.hazelcast.config.SerializerConfig;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.StreamSerializer;

/**
 * How the Hazelcast store's values cross between members: operations with their tensors in the bulk codec, answers,
 * and whole sessions (when one moves to another member or a new backup is made) in the session file's format. Each
 * member's serializers know the member, so that what they read is counted there.
 */
final class ClusterSerializers {

	static final int OPERATION = 1001;

	static final int ANSWER = 1002;

	static final int SESSION = 1003;

	private ClusterSerializers() {
	}

	static void register(SerializationConfig config, ClusterMember member) {
		config.addSerializerConfig(new SerializerConfig().setTypeClass(ClusterOperation.class)
			.setImplementation(new OperationSerializer(member)));
		config.addSerializerConfig(new SerializerConfig().setTypeClass(ClusterOperation.Answer.class)
			.setImplementation(new AnswerSerializer(member.codec)));
		config.addSerializerConfig(new SerializerConfig().setTypeClass(ClusterSession.class)
			.setImplementation(new SessionSerializer(member)));
	}

	private record OperationSerializer(ClusterMember member) implements StreamSerializer<ClusterOperation> {

		@Override
		public int getTypeId() {
			return OPERATION;
		}

		@Override
		public void write(ObjectDataOutput out, ClusterOperation operation) throws IOException {
			out.writeByte(operation.kind.ordinal());
			out.writeBoolean(operation.backup);
			out.writeString(operation.caller.owner());
			out.writeLong(operation.now);
			out.writeLong(operation.idleTimeout);
			out.writeBoolean(operation.operation != null);
			if (operation.operation != null) {
				this.member.codec.writeOperation(out, operation.operation);
			}
			out.writeBoolean(operation.added != null);
			if (operation.added != null) {
				this.member.codec.writeSession(out, operation.added);
			}
		}

		@Override
		public ClusterOperation read(ObjectDataInput in) throws IOException {
			ClusterOperation.Kind kind = ClusterOperation.Kind.values()[in.readByte()];
			boolean backup = in.readBoolean();
			String owner = in.readString();
			long now = in.readLong();
			long idleTimeout = in.readLong();
			SessionOperation<?> operation = in.readBoolean() ? this.member.codec.readOperation(in) : null;
			PersistedSession added = in.readBoolean() ? this.member.codec.readSession(in) : null;
			return new ClusterOperation(kind, backup, operation, (owner != null) ? Caller.key(owner) : Caller.anyone(),
					now, idleTimeout, added, this.member);
		}

	}

	private record AnswerSerializer(ClusterCodec codec) implements StreamSerializer<ClusterOperation.Answer> {

		@Override
		public int getTypeId() {
			return ANSWER;
		}

		@Override
		public void write(ObjectDataOutput out, ClusterOperation.Answer answer) throws IOException {
			this.codec.writeResult(out, answer.result());
		}

		@Override
		public ClusterOperation.Answer read(ObjectDataInput in) throws IOException {
			return new ClusterOperation.Answer(this.codec.readResult(in));
		}

	}

	/** A whole session, when it moves to another member or a new backup is made; read as a copy to keep. */
	private record SessionSerializer(ClusterMember member) implements StreamSerializer<ClusterSession> {

		@Override
		public int getTypeId() {
			return SESSION;
		}

		@Override
		public void write(ObjectDataOutput out, ClusterSession copy) throws IOException {
			out.writeLong(copy.lastUsed);
			this.member.codec.writeSession(out, copy.session.persisted());
		}

		@Override
		public ClusterSession read(ObjectDataInput in) throws IOException {
			long lastUsed = in.readLong();
			return this.member.hold(this.member.codec.readSession(in), true, lastUsed);
		}

	}

}
