"""schemas/ is generated from the code; this fails when the committed files drift."""

import json
from pathlib import Path

from server.schemagen import generate, write_or_check

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


def test_committed_schemas_match_the_code():
    assert write_or_check(str(SCHEMAS), check=True) == 0, "run `practica schemas` and commit"


def test_drift_is_detected(tmp_path):
    write_or_check(str(tmp_path), check=False)
    assert write_or_check(str(tmp_path), check=True) == 0
    (tmp_path / "json" / "client" / "post.json").write_text("{}\n")
    (tmp_path / "json" / "client" / "stale.json").write_text("{}\n")
    assert write_or_check(str(tmp_path), check=True) == 1


def test_every_message_has_a_schema_and_asyncapi_lists_it():
    files = generate()
    asyncapi = files["asyncapi.json"]
    for name in ("client/identify", "client/resume", "client/post", "server/hello",
                 "server/ready", "server/event", "server/error"):
        assert f"json/{name}.json" in files
        assert f'"{name.replace("/", ".")}"' in asyncapi
    assert "4005" in asyncapi and "slow_consumer" not in files["codes.md"].lower().split("|")[0]
    assert "| `rate_limited` |" in files["codes.md"]


def test_openapi_passes_openapi_spec_validator():
    from openapi_spec_validator import validate

    document = json.loads(generate()["openapi.json"])
    validate(document)
    ids = [op["operationId"] for path in document["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))


def test_asyncapi_payloads_declare_their_schema_format():
    document = json.loads(generate()["asyncapi.json"])
    for name, message in document["components"]["messages"].items():
        payload = message["payload"]
        assert payload["schemaFormat"] == "application/schema+json;version=draft-07", name
        assert set(payload) == {"schemaFormat", "schema"}
    # draft-07 and AsyncAPI's format name the discriminating property; no OpenAPI objects
    assert '"discriminator": {' not in generate()["asyncapi.json"]


def test_every_schema_file_names_itself_and_its_dialect():
    for name, text in generate().items():
        if name.startswith("json/"):
            schema = json.loads(text)
            assert schema["$schema"].startswith("https://json-schema.org/"), name
            assert schema["$id"], name
