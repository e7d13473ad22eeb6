package dev.adamopt.cluster;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;

/**
 * Beans that exist only when sessions live in Hazelcast ({@code adam.store=hazelcast}); with the default
 * ({@code memory}) they are never created, and no Hazelcast class is touched.
 */
@Target({ ElementType.TYPE, ElementType.METHOD })
@Retention(RetentionPolicy.RUNTIME)
@Documented
@ConditionalOnProperty(name = StoreProperties.PROPERTY, havingValue = "hazelcast")
public @interface ConditionalOnHazelcastStore {

}
