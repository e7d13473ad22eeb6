// Drives a session through the TypeScript client that openapi-generator (typescript-fetch) made from the service's
// OpenAPI document, as a user of that client would, without any change to the generated code. GeneratedClientsTest
// generates the client into ./client beside a copy of this file, compiles both with tsc --strict, runs this with node
// and checks what it prints.
//
// Usage: node generated-client-driver.js BASE_URL API_KEY
//
// create (AdamW, a cosine schedule, the service holding a 2-D and a 0-d tensor) -> step -> state -> resume from that
// state -> a second step on both -> new parameters PUT into the resumed one and read back -> delete both -> get,
// which answers 404. Prints one JSON object on its last line:
// what the client returned, as plain JSON values. The tensors and settings are the ones of GeneratedClientsTest's
// control session, which the test drives over plain HTTP to compare.

import { Configuration, ResponseError, SessionsApi } from './client';

// node's own globals, declared here rather than with @types/node
declare const process: { argv: string[]; exitCode?: number };

async function main(baseUrl: string, apiKey: string): Promise<void> {
	// The document declares its bearer scheme: the client sends the key in Authorization: Bearer on every operation.
	const api = new SessionsApi(new Configuration({ basePath: baseUrl, accessToken: apiKey }));

	const created = await api.create({
		createSessionRequest: {
			optimizer: { algorithm: 'adamw', learningRate: 0.01, schedule: { type: 'cosine', tMax: 10 } },
			parameters: { W: [[0.5, -0.2], [0.1, 0.3]], s: 1.5 },
		},
	});
	const id = created.id!;

	const first = await api.step({
		id,
		stepRequest: { gradients: { W: [[0.01, -0.03], [0.02, 0.0]], s: 0.25 }, loss: 0.75 },
	});

	const checkpoint = await api.state({ id });
	const resumed = await api.create({ createSessionRequest: { state: checkpoint } });
	const resumedId = resumed.id!;
	const resumedCheckpoint = await api.state({ id: resumedId });

	const second = { gradients: { W: [[0.02, 0.01], [-0.01, 0.03]], s: -0.5 } };
	const nextOriginal = await api.step({ id, stepRequest: second });
	const nextResumed = await api.step({ id: resumedId, stepRequest: second });

	await api.putParameters({ id: resumedId, requestBody: { W: [[1.0, 2.0], [3.0, 4.0]], s: -2.5 } });
	const held = await api.parameters({ id: resumedId });

	const deleted: { id: string; status: number; type?: string }[] = [];
	for (const sessionId of [id, resumedId]) {
		await api._delete({ id: sessionId });
		try {
			await api.get({ id: sessionId });
			deleted.push({ id: sessionId, status: 200 });
		}
		catch (error) {
			if (!(error instanceof ResponseError)) {
				throw error;
			}
			const problem = await error.response.json();
			deleted.push({ id: sessionId, status: error.response.status, type: problem.type });
		}
	}

	console.log(JSON.stringify({
		created: {
			id,
			step: created.step,
			holdsParameters: created.holdsParameters,
			tensors: (created.tensors ?? []).map((t) => ({ name: t.name, shape: t.shape })),
		},
		step: { step: first.step, parameters: first.parameters, learningRate: first.learningRate },
		checkpoint,
		resumed: { id: resumedId, step: resumed.step },
		resumedCheckpoint,
		next: { original: nextOriginal.parameters, resumed: nextResumed.parameters },
		held,
		deleted,
	}));
}

main(process.argv[2], process.argv[3]).catch((error: unknown) => {
	console.log(`failed: ${error instanceof Error ? error.stack : String(error)}`);
	process.exitCode = 1;
});
