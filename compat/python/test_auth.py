"""Authentication on (`PHOENIX_ENABLE_AUTH`), driven by the real `arize-phoenix-client` and
`arize-phoenix-otel` with API keys: the keys an admin makes work for reads and for OTLP over HTTP
and gRPC; no key is a 401 (UNAUTHENTICATED), a viewer's key may read but not write."""

import httpx
import pytest
from phoenix.client import Client
from phoenix.otel import register

from conftest import start_ember

SECRET = "compat-server-secret-0123456789abcdef"
ADMIN_SECRET = "compat-admin-secret-0123456789abcdefg"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    server = start_ember(
        tmp_path_factory.mktemp("ember-auth"),
        {"PHOENIX_ENABLE_AUTH": "true", "PHOENIX_SECRET": SECRET, "PHOENIX_ADMIN_SECRET": ADMIN_SECRET},
    )
    yield server
    server.process.terminate()
    assert server.process.wait(timeout=30) == 0


def sign_in(ember, email, password):
    response = httpx.post(f"{ember.http}/auth/login", json={"email": email, "password": password})
    assert response.status_code == 204, response.text
    return response.cookies["phoenix-access-token"]


@pytest.fixture(scope="module")
def keys(guarded):
    """A system key (made with the admin secret) and a viewer's personal key."""
    admin = {"authorization": f"Bearer {ADMIN_SECRET}"}
    system = httpx.post(f"{guarded.http}/v1/system/api_keys", json={"data": {"name": "compat"}}, headers=admin)
    assert system.status_code == 201, system.text
    viewer = {"email": "viewer@example.com", "username": "viewer", "role": "VIEWER", "auth_method": "LOCAL", "password": "viewer-pass"}
    assert httpx.post(f"{guarded.http}/v1/users", json={"user": viewer}, headers=admin).status_code == 201
    token = sign_in(guarded, "viewer@example.com", "viewer-pass")
    personal = httpx.post(
        f"{guarded.http}/v1/user/api_keys", json={"data": {"name": "mine"}}, cookies={"phoenix-access-token": token}
    )
    assert personal.status_code == 201, personal.text
    return {"system": system.json()["data"]["key"], "viewer": personal.json()["data"]["key"]}


def test_the_client_needs_a_key(guarded, keys):
    with pytest.raises(httpx.HTTPStatusError) as refused:
        Client(base_url=guarded.http).projects.list()
    assert refused.value.response.status_code == 401
    projects = Client(base_url=guarded.http, api_key=keys["viewer"]).projects.list()
    assert [project["name"] for project in projects] == ["default"]
    with pytest.raises(httpx.HTTPStatusError) as forbidden:
        Client(base_url=guarded.http, api_key=keys["viewer"]).projects.create(name="viewers-cannot")
    assert forbidden.value.response.status_code == 403
    created = Client(base_url=guarded.http, api_key=keys["system"]).projects.create(name="made-with-a-key")
    assert created["name"] == "made-with-a-key"


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_register_sends_the_key_over_both_protocols(guarded, keys, protocol):
    project = f"keyed-{protocol.replace('/', '-')}"
    endpoint = f"{guarded.http}/v1/traces" if protocol == "http/protobuf" else guarded.grpc
    provider = register(
        project_name=project,
        endpoint=endpoint,
        protocol=protocol,
        api_key=keys["system"],
        batch=False,
        set_global_tracer_provider=False,
        verbose=False,
    )
    with provider.get_tracer("compat").start_as_current_span("keyed", attributes={"openinference.span.kind": "CHAIN"}):
        pass
    provider.force_flush()
    reader = Client(base_url=guarded.http, api_key=keys["viewer"])
    spans = reader.spans.get_spans(project_identifier=project, limit=10)
    assert [span["name"] for span in spans] == ["keyed"]


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_spans_without_a_key_are_refused(guarded, keys, protocol):
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult

    project = f"unkeyed-{protocol.replace('/', '-')}"
    for key in [None, keys["viewer"]]:
        headers = {"authorization": f"Bearer {key}"} if key else {}
        if protocol == "grpc":
            exporter = GrpcExporter(endpoint=guarded.grpc, insecure=True, headers=tuple(headers.items()))
        else:
            exporter = HttpExporter(endpoint=f"{guarded.http}/v1/traces", headers=headers)
        outcomes = []

        class Recording(SimpleSpanProcessor):
            def on_end(self, span):
                outcomes.append(exporter.export([span]))

        provider = TracerProvider()
        provider.add_span_processor(Recording(exporter))
        with provider.get_tracer("compat").start_as_current_span("unkeyed"):
            pass
        assert outcomes == [SpanExportResult.FAILURE], key
    reader = Client(base_url=guarded.http, api_key=keys["system"])
    assert project not in [p["name"] for p in reader.projects.list()]
