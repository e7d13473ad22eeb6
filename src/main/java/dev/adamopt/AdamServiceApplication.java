package dev.adamopt;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

@SpringBootApplication
public class AdamServiceApplication {

	public static void main(String[] args) {
		SpringApplication.run(AdamServiceApplication.class, args);
	}

}
