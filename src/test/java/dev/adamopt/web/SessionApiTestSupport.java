package dev.adamopt.web;

import java.io.UnsupportedEncodingException;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.assertj.MockMvcTester;
import org.springframework.test.web.servlet.assertj.MvcTestResult;

import static org.assertj.core.api.Assertions.assertThat;

/** The API calls the controller slice tests make, written once. */
abstract class SessionApiTestSupport {

	static final JsonMapper json = JsonMapper.builder().build();

	@Autowired
	MockMvcTester mvc;

	MvcTestResult create(String body) {
		return this.mvc.post().uri("/v1/sessions").contentType(MediaType.APPLICATION_JSON).content(body).exchange();
	}

	String createId(String body) {
		MvcTestResult result = create(body);
		assertThat(result).hasStatus(HttpStatus.CREATED);
		return read(result).get("id").asString();
	}

	MvcTestResult step(String id, String body) {
		return this.mvc.post()
			.uri("/v1/sessions/{id}/steps", id)
			.contentType(MediaType.APPLICATION_JSON)
			.content(body)
			.exchange();
	}

	MvcTestResult patch(String id, String body) {
		return this.mvc.patch()
			.uri("/v1/sessions/{id}", id)
			.contentType(MediaType.APPLICATION_JSON)
			.content(body)
			.exchange();
	}

	static String body(MvcTestResult result) {
		try {
			return result.getResponse().getContentAsString();
		}
		catch (UnsupportedEncodingException ex) {
			throw new IllegalStateException(ex);
		}
	}

	static JsonNode read(MvcTestResult result) {
		return json.readTree(body(result));
	}

}
