"""The prompt hub through the real `arize-phoenix-client`: versions created, fetched by name, tag
and id, tags moved, prompts patched and deleted, and `prompt.format()` giving the same OpenAI and
Anthropic request that `ember prompts render` builds, and the Google SDK sending the body ember
renders for a Google prompt."""

import http.server
import json
import subprocess
import threading
from pathlib import Path

import httpx
import pytest
from phoenix.client.types.prompts import PromptVersion

from conftest import ember_binary

CITY_PROMPT = [
    {"role": "system", "content": [{"type": "text", "text": "You answer about {{ city }}."}]},
    {"role": "user", "content": "Weather in {{city}} for {{ who }}?"},
    {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "Checking {{ city }}."},
            {
                "type": "tool_call",
                "tool_call_id": "call_1",
                "tool_call": {"type": "function", "name": "get_weather", "arguments": '{"city": "Paris"}'},
            },
        ],
    },
    {
        "role": "tool",
        "content": [{"type": "tool_result", "tool_call_id": "call_1", "tool_result": {"temp_c": 21, "sky": "clear ☀"}}],
    },
]
VARIABLES = {"city": "Paris", "who": "Zoë"}


def ember_cli(ember, *args):
    finished = subprocess.run(
        [ember_binary(), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PHOENIX_ENDPOINT": ember.http},
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return finished.stdout


def request_body(formatted):
    """The formatted prompt as the JSON the SDK sends: messages and kwargs, `extra_body` merged."""
    body = dict(formatted)
    body.update(body.pop("extra_body", None) or {})
    return json.loads(json.dumps(body))


def openai_version():
    version = PromptVersion.from_openai(
        {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "placeholder"}],
            "temperature": 0.2,
            "max_completion_tokens": 300,
            "seed": 7,
            "stop": ["END"],
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": "get_weather",
                        "description": "Weather now",
                        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
                    },
                }
            ],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
            "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}}},
        },
        description="weather v1",
    )
    version._template = {"type": "chat", "messages": CITY_PROMPT}
    return version


def test_versions_are_created_fetched_tagged_and_rendered_like_the_client(client, ember):
    first = client.prompts.create(
        name="compat-weather", version=openai_version(), prompt_description="weather agent", prompt_metadata={"team": "compat"}
    )
    assert first.id
    second_version = PromptVersion(
        [{"role": "user", "content": "Short weather for {{ city }}"}], model_name="gpt-4o", model_provider="AZURE_OPENAI"
    )
    second = client.prompts.create(name="compat-weather", version=second_version)
    assert second.id != first.id

    # Latest, by id, and by tag; a tag moves between versions of the prompt.
    assert client.prompts.get(prompt_identifier="compat-weather").id == second.id
    assert client.prompts.get(prompt_version_id=first.id).id == first.id
    client.prompts.tags.create(prompt_version_id=first.id, name="production", description="live")
    assert client.prompts.get(prompt_identifier="compat-weather", tag="production").id == first.id
    assert [tag["name"] for tag in client.prompts.tags.list(prompt_version_id=first.id)] == ["production"]
    client.prompts.tags.create(prompt_version_id=second.id, name="production")
    assert client.prompts.get(prompt_identifier="compat-weather", tag="production").id == second.id
    assert client.prompts.tags.list(prompt_version_id=first.id) == []
    with pytest.raises(ValueError, match="Prompt not found"):
        client.prompts.get(prompt_identifier="compat-weather", tag="staging")

    # The stored version reads back as the client wrote it (Azure parameters stored as OpenAI's).
    fetched = client.prompts.get(prompt_version_id=first.id)
    assert fetched._dumps() == {**openai_version()._dumps(), "description": "weather v1"}
    azure = client.prompts.get(prompt_version_id=second.id)._dumps()
    assert azure["model_provider"] == "AZURE_OPENAI"
    assert azure["invocation_parameters"] == {"type": "openai", "openai": {}}

    # format() for OpenAI gives the request `ember prompts render` builds, byte for byte as JSON.
    rendered = json.loads(
        ember_cli(ember, "prompts", "render", "compat-weather", "--version-id", first.id, "--var", "city=Paris", "--var", "who=Zoë")
    )
    assert request_body(fetched.format(variables=VARIABLES)) == rendered
    assert rendered["messages"][3]["content"] == '{"temp_c": 21, "sky": "clear \\u2600"}'
    # ... and for Anthropic, converting the OpenAI parameters as the client does.
    as_anthropic = json.loads(
        ember_cli(ember, "prompts", "render", "compat-weather", "--version-id", first.id, "--sdk", "anthropic", "--var", "city=Paris", "--var", "who=Zoë")
    )
    assert request_body(fetched.format(variables=VARIABLES, sdk="anthropic")) == as_anthropic


def test_anthropic_versions_render_like_the_client(client, ember):
    version = PromptVersion.from_anthropic(
        {
            "model": "claude-sonnet-4-5",
            "max_tokens": 2048,
            "system": "Answer in one line.",
            "messages": [{"role": "user", "content": "placeholder"}],
            "temperature": 0.5,
            "stop_sequences": ["END"],
            "thinking": {"type": "enabled", "budget_tokens": 1024},
            "tools": [{"name": "get_weather", "description": "Weather now", "input_schema": {"type": "object"}}],
            "tool_choice": {"type": "auto", "disable_parallel_tool_use": True},
        }
    )
    messages = version._template["messages"][:1] + CITY_PROMPT[1:]
    version._template = {"type": "chat", "messages": messages}
    created = client.prompts.create(name="compat-anthropic", version=version)
    fetched = client.prompts.get(prompt_identifier="compat-anthropic")
    assert fetched.id == created.id
    assert fetched._dumps()["invocation_parameters"] == {
        "type": "anthropic",
        "anthropic": {"max_tokens": 2048, "temperature": 0.5, "stop_sequences": ["END"], "thinking": {"type": "enabled", "budget_tokens": 1024}},
    }
    rendered = json.loads(ember_cli(ember, "prompts", "render", "compat-anthropic", "--var", "city=Paris", "--var", "who=Zoë"))
    expected = request_body(fetched.format(variables=VARIABLES))
    assert expected["system"] == "Answer in one line." and expected["messages"][1]["content"][1]["type"] == "tool_use"
    assert rendered == expected
    # OpenAI's request from the same version.
    as_openai = json.loads(
        ember_cli(ember, "prompts", "render", "compat-anthropic", "--sdk", "openai", "--var", "city=Paris", "--var", "who=Zoë")
    )
    assert as_openai == request_body(fetched.format(variables=VARIABLES, sdk="openai"))


def test_prompts_are_patched_deleted_and_bad_input_is_refused(client, ember, tmp_path: Path):
    version = PromptVersion([{"role": "user", "content": "Hi {name}"}], model_name="gpt-4o-mini", template_format="F_STRING")
    client.prompts.create(name="compat-patch", version=version, prompt_description="before")
    patched = client.prompts.update(prompt_identifier="compat-patch", prompt_metadata={"owner": "qa"})
    assert (patched["description"], patched["metadata"]) == ("before", {"owner": "qa"})
    cleared = client.prompts.update(prompt_identifier="compat-patch", prompt_description=None)
    assert (cleared["description"], cleared["metadata"]) == (None, {"owner": "qa"})
    assert client.prompts.get(prompt_identifier="compat-patch").format(variables={"name": "Ann"})["messages"] == [
        {"role": "user", "content": "Hi Ann"}
    ]

    with pytest.raises(httpx.HTTPStatusError) as refused:
        client.prompts.create(name="Not A Name", version=version)
    assert refused.value.response.status_code == 422
    assert "String should match pattern" in refused.value.response.text

    # The CLI pushes a version file, tags it, and lists it; the client sees all of it.
    path = tmp_path / "version.json"
    path.write_text(json.dumps(client.prompts.get(prompt_identifier="compat-patch")._dumps()))
    pushed = ember_cli(ember, "prompts", "push", "compat-patch", "--file", str(path), "--tag", "staging").strip()
    assert client.prompts.get(prompt_identifier="compat-patch", tag="staging").id == pushed
    listed = json.loads(ember_cli(ember, "prompts", "list", "--json"))
    assert "compat-patch" in [prompt["name"] for prompt in listed]

    client.prompts.delete(prompt_identifier="compat-patch")
    with pytest.raises(ValueError, match="Prompt not found"):
        client.prompts.get(prompt_identifier="compat-patch")


class _CaptureGemini(http.server.BaseHTTPRequestHandler):
    """A stand-in for Gemini's REST API that keeps each request and answers a fixed text."""

    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        _CaptureGemini.received.append((self.path, json.loads(body)))
        answer = json.dumps({"candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP"}]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


# Values that are the caller's own JSON, whose keys are left as they are.
_OPAQUE = {"parametersJsonSchema", "responseJsonSchema", "args", "response"}


def _camel_keys(value):
    """Google's API reads a field in snake_case or camelCase alike; the SDK sends a few in
    snake_case (`parameters_json_schema`, `thinking_budget`), ember the documented camelCase."""
    if isinstance(value, list):
        return [_camel_keys(item) for item in value]
    if not isinstance(value, dict):
        return value
    camel = {}
    for key, item in value.items():
        head, *rest = key.split("_")
        key = head + "".join(word.title() for word in rest)
        camel[key] = item if key in _OPAQUE else _camel_keys(item)
    return camel


def test_google_versions_render_the_request_the_google_sdk_sends(client, ember):
    from google import genai
    from google.genai import types as genai_types

    version = PromptVersion(CITY_PROMPT, model_name="gemini-2.5-flash", model_provider="GOOGLE")
    version._invocation_parameters = {
        "type": "google",
        "google": {"temperature": 0.1, "max_output_tokens": 99, "top_k": 4, "stop_sequences": ["END"], "thinking_config": {"thinking_budget": 128}},
    }
    version._tools = {
        "type": "tools",
        "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather now", "parameters": {"type": "object"}}}],
        "tool_choice": {"type": "specific_function", "function_name": "get_weather"},
    }
    version._response_format = {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}}}
    created = client.prompts.create(name="compat-gemini", version=version)
    fetched = client.prompts.get(prompt_version_id=created.id)

    # The Google SDK sends the client's formatted prompt to a local stand-in; ember renders the same body.
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CaptureGemini)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        gemini = genai.Client(api_key="test", http_options=genai_types.HttpOptions(base_url=f"http://127.0.0.1:{server.server_port}"))
        formatted = fetched.format(variables=VARIABLES, sdk="google_genai")
        gemini.models.generate_content(model=formatted.kwargs["model"], contents=formatted.messages, config=formatted.kwargs["config"])
    finally:
        server.shutdown()
    path, sent = _CaptureGemini.received[-1]
    assert path.endswith("/models/gemini-2.5-flash:generateContent"), path
    rendered = json.loads(ember_cli(ember, "prompts", "render", "compat-gemini", "--var", "city=Paris", "--var", "who=Zoë"))
    assert rendered.pop("model") == "gemini-2.5-flash"
    assert sent["tools"][0]["functionDeclarations"][0]["parameters_json_schema"] == {"type": "object"}
    assert _camel_keys(sent) == rendered
