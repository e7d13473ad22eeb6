# Multi-stage image for adam-optimizer-service.
#   docker build -t adam-optimizer .
#   docker run -p 8080:8080 -v adam-data:/app/data -e JAVA_OPTS="-Xss512k -Dspring.profiles.active=prod" adam-optimizer
# Tests are not run here (CI runs them); this only compiles and packages.

# ---------------------------------------------------------------- build stage
FROM eclipse-temurin:17-jdk AS build
WORKDIR /workspace

# Wrapper + POM first: this layer, with the Maven distribution and the
# dependencies in ~/.m2, is only rebuilt when the POM or wrapper changes,
# not on every source edit.
COPY mvnw pom.xml ./
COPY .mvn/ .mvn/
# chmod: the exec bit is lost on some checkouts (e.g. Windows).
RUN chmod +x mvnw && ./mvnw -B -q dependency:go-offline

# go-offline does not catch every plugin dependency, so package may still
# fetch a few artifacts; -DskipTests still compiles the tests.
COPY src/ src/
RUN ./mvnw -B -ntp -DskipTests package \
 && cp target/adam-optimizer-service-*.jar application.jar \
 && java -Djarmode=tools -jar application.jar extract --layers --launcher --destination extracted

# -------------------------------------------------------------- runtime stage
FROM eclipse-temurin:17-jre

# Fixed non-root uid/gid, so runAsNonRoot / volume permissions can rely on it.
RUN groupadd --gid 10001 app \
 && useradd --uid 10001 --gid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin app

WORKDIR /app

# Layers from least to most often changed, so a code-only change ships
# only the small application layer. Files stay root-owned: the app cannot
# modify its own code.
COPY --from=build /workspace/extracted/dependencies/ ./
COPY --from=build /workspace/extracted/spring-boot-loader/ ./
COPY --from=build /workspace/extracted/snapshot-dependencies/ ./
COPY --from=build /workspace/extracted/application/ ./

# Durable sessions: one file per session in /app/data, the only directory the app may write. A volume, so that the
# sessions outlive the container (docker run -v adam-data:/app/data ...); a new named volume takes this directory's
# owner, so uid 10001 can write it.
RUN mkdir /app/data && chown 10001:10001 /app/data
ENV ADAM_PERSISTENCE_DIRECTORY=/app/data
VOLUME /app/data

USER 10001:10001
EXPOSE 8080
# The cluster port of adam.store=hazelcast (README, Cluster): open it between the nodes only.
EXPOSE 5701

# Extra JVM flags, split on whitespace (no quoting inside). They come after
# the defaults below, so e.g. JAVA_OPTS=-XX:MaxRAMPercentage=50 overrides them.
ENV JAVA_OPTS=""

# start-period gives the JVM time to start before failures count. bash's /dev/tcp instead of curl: the JRE base
# image need not ship an HTTP client. ${SERVER_PORT:-8080}: still right if the port is moved with SERVER_PORT.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD bash -c 'exec 3<>"/dev/tcp/127.0.0.1/${SERVER_PORT:-8080}" && printf "GET /actuator/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" >&3 && grep -q "\"status\":\"UP\"" <&3' || exit 1

# sh -c only to expand JAVA_OPTS; exec makes java PID 1 so it gets SIGTERM
# from `docker stop` (graceful shutdown: the steps in flight finish, then every
# changed session is written; give it time with `docker stop -t 60`, docker's
# default of 10 s may cut it short). "$@" passes `docker run` args on to
# the application (e.g. --server.port=9090); "app" fills $0.
# Heap is sized from the container memory limit; exit on OOM so the
# orchestrator restarts the container instead of leaving a broken JVM (the
# sessions come back from /app/data, less at most one persistence interval).
# The --add-opens/--add-exports are what Hazelcast (adam.store=hazelcast) asks of Java 17 (java -jar gets them from
# the jar's manifest; this entry point starts the extracted layers, so it passes them); harmless without a cluster.
ENV HAZELCAST_JVM_FLAGS="--add-modules java.se --add-exports java.base/jdk.internal.ref=ALL-UNNAMED --add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED --add-opens java.management/sun.management=ALL-UNNAMED --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED"
ENTRYPOINT ["sh", "-c", "exec java -XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError $HAZELCAST_JVM_FLAGS $JAVA_OPTS org.springframework.boot.loader.launch.JarLauncher \"$@\"", "app"]
