"""Drives a session through the Python client that openapi-generator (`python` generator) made from the service's
OpenAPI document, as a user of that client would, without any change to the generated code. GeneratedClientsTest
generates the client (package adam_client, on PYTHONPATH), runs this script and checks what it prints.

Usage: generated_client_driver.py BASE_URL API_KEY

create (AdamW, a cosine schedule, the service holding a 2-D and a 0-d tensor) -> step -> state -> resume from that
state -> a second step on both -> new parameters PUT into the resumed one and read back -> delete both -> get, which
answers 404. Prints one JSON object on its last line: what
the client returned, as plain JSON values. The tensors and settings are the ones of GeneratedClientsTest's control
session, which the test drives over plain HTTP to compare.
"""

import json
import sys

import adam_client
from adam_client.exceptions import NotFoundException
from adam_client.models import CreateSessionRequest, OptimizerSettings, ScheduleSettings, StepRequest


def main(base_url, api_key):
    # The document declares its bearer scheme: the client sends the key in Authorization: Bearer on every operation.
    configuration = adam_client.Configuration(host=base_url, access_token=api_key)
    client = adam_client.ApiClient(configuration)
    api = adam_client.SessionsApi(client)

    created = api.create(CreateSessionRequest(
        optimizer=OptimizerSettings(algorithm="adamw", learning_rate=0.01,
                                    schedule=ScheduleSettings(type="cosine", t_max=10)),
        parameters={"W": [[0.5, -0.2], [0.1, 0.3]], "s": 1.5}))

    first = api.step(created.id, StepRequest(gradients={"W": [[0.01, -0.03], [0.02, 0.0]], "s": 0.25}, loss=0.75))

    checkpoint = api.state(created.id)
    resumed = api.create(CreateSessionRequest(state=checkpoint))
    resumed_checkpoint = api.state(resumed.id)

    second = StepRequest(gradients={"W": [[0.02, 0.01], [-0.01, 0.03]], "s": -0.5})
    next_original = api.step(created.id, second)
    next_resumed = api.step(resumed.id, second)

    api.put_parameters(resumed.id, {"W": [[1.0, 2.0], [3.0, 4.0]], "s": -2.5})
    held = api.parameters(resumed.id)

    deleted = []
    for session_id in (created.id, resumed.id):
        api.delete(session_id)
        try:
            api.get(session_id)
            deleted.append({"id": session_id, "status": 200})
        except NotFoundException as gone:
            deleted.append({"id": session_id, "status": gone.status, "type": gone.data.type if gone.data else None})

    print(json.dumps({
        "created": {"id": created.id, "step": created.step, "holdsParameters": created.holds_parameters,
                    "tensors": [{"name": t.name, "shape": t.shape} for t in created.tensors]},
        "step": {"step": first.step, "parameters": first.parameters, "learningRate": first.learning_rate},
        "checkpoint": checkpoint.to_dict(),
        "resumed": {"id": resumed.id, "step": resumed.step},
        "resumedCheckpoint": resumed_checkpoint.to_dict(),
        "next": {"original": next_original.parameters, "resumed": next_resumed.parameters},
        "held": held,
        "deleted": deleted,
    }))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
