"""Starts the real `ember` binary for the `arize` SDK suites, as the Phoenix suites start it
(`compat/python/conftest.py`: SQLite, or PostgreSQL with EMBER_TEST_BACKEND=postgresql), and
reads what the SDK wrote back through ember's Phoenix REST API."""

import importlib.util
import json
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("phoenix_compat", Path(__file__).resolve().parents[1] / "python" / "conftest.py")
_phoenix_compat = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_phoenix_compat)
start_ember = _phoenix_compat.start_ember

ADMIN_SECRET = "compat-admin-secret-0123456789abcdefghij"


@pytest.fixture(scope="session")
def ember(tmp_path_factory):
    server = start_ember(tmp_path_factory.mktemp("ember"))
    yield server
    server.process.terminate()
    assert server.process.wait(timeout=30) == 0


@pytest.fixture(scope="session")
def ember_with_auth(tmp_path_factory):
    env = {"PHOENIX_ENABLE_AUTH": "true", "PHOENIX_SECRET": "compat-server-secret-0123456789abcdefgh", "PHOENIX_ADMIN_SECRET": ADMIN_SECRET}
    server = start_ember(tmp_path_factory.mktemp("ember-auth"), env)
    yield server
    server.process.terminate()
    assert server.process.wait(timeout=30) == 0


def host_port(url: str) -> tuple[str, int]:
    parsed = urllib.parse.urlparse(url)
    return parsed.hostname, parsed.port


def phoenix_get(ember, path: str, key: str | None = None):
    """A Phoenix REST GET against ember, as JSON."""
    request = urllib.request.Request(f"{ember.http}{path}")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def phoenix_spans(ember, project: str, **params):
    query = urllib.parse.urlencode({"limit": 1000, **params})
    return phoenix_get(ember, f"/v1/projects/{urllib.parse.quote(project)}/spans?{query}")["data"]


def span_annotations(ember, project: str, span_id: str):
    return phoenix_get(ember, f"/v1/projects/{urllib.parse.quote(project)}/span_annotations?span_ids={span_id}")["data"]
