"""What the benches share: the scratch PostgreSQL database, Django set up on it, a free port."""

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POSTGRES = ["-h", "127.0.0.1", "-U", "postgres"]


def database_url(database: str) -> str:
    return f"postgres://postgres@127.0.0.1:5432/{database}"


def database_ensure(database: str, *, fresh: bool = False) -> None:
    """Create the scratch database if it is missing; ``fresh`` drops it first."""
    if fresh:
        subprocess.run(["dropdb", *POSTGRES, "--if-exists", database], check=True)
    names = subprocess.run(
        ["psql", *POSTGRES, "-tAc", "SELECT datname FROM pg_database"], capture_output=True, text=True, check=True
    ).stdout.split()
    if database not in names:
        subprocess.run(["createdb", *POSTGRES, database], check=True)


def django_setup(database: str, **env: str) -> None:
    """Django in this process on ``database`` with the local settings, no debug, and ``env`` set."""
    os.environ.update(
        {
            "DATABASE_URL": database_url(database),
            "DJANGO_SETTINGS_MODULE": "csm_platform.settings.local",
            "DEBUG": "false",
            **env,
        }
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
