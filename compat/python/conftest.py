"""Starts the real `ember` binary on OS-assigned loopback ports for the compatibility tests.

The database is an SQLite file in a temporary directory, or, with EMBER_TEST_BACKEND=postgresql,
a fresh schema in the PostgreSQL server named by EMBER_TEST_POSTGRES_URL.
"""

import os
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def ember_binary() -> str:
    if os.environ.get("EMBER_BIN"):
        return os.environ["EMBER_BIN"]
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return str(target / "debug" / "ember")


@dataclass
class Ember:
    http: str
    grpc: str
    process: subprocess.Popen


def start_ember(workdir: Path, extra_env: dict | None = None) -> Ember:
    env = {
        **os.environ,
        "PHOENIX_HOST": "127.0.0.1",
        "PHOENIX_PORT": "0",
        "PHOENIX_GRPC_PORT": "0",
        "PHOENIX_WORKING_DIR": str(workdir),
        **(extra_env or {}),
    }
    env.pop("PHOENIX_SQL_DATABASE_URL", None)
    env.pop("PHOENIX_SQL_DATABASE_SCHEMA", None)
    backend = os.environ.get("EMBER_TEST_BACKEND", "sqlite")
    if backend == "postgresql":
        env["PHOENIX_SQL_DATABASE_URL"] = os.environ["EMBER_TEST_POSTGRES_URL"]
        env["PHOENIX_SQL_DATABASE_SCHEMA"] = f"compat_{uuid.uuid4().hex}"
    elif backend != "sqlite":
        raise RuntimeError(f"EMBER_TEST_BACKEND={backend!r}: expected sqlite or postgresql")
    process = subprocess.Popen([ember_binary(), "serve"], stdout=subprocess.PIPE, env=env, text=True)
    line = process.stdout.readline()  # "ember listening http=HOST:PORT grpc=HOST:PORT"
    if "ember listening" not in line:
        process.kill()
        raise RuntimeError(f"ember did not start: {line!r}")
    fields = dict(word.split("=", 1) for word in line.split() if "=" in word)
    return Ember(http=f"http://{fields['http']}", grpc=f"http://{fields['grpc']}", process=process)


@pytest.fixture(scope="session")
def ember(tmp_path_factory):
    server = start_ember(tmp_path_factory.mktemp("ember"))
    yield server
    server.process.terminate()
    assert server.process.wait(timeout=30) == 0


@pytest.fixture(scope="session")
def client(ember):
    from phoenix.client import Client

    return Client(base_url=ember.http)
