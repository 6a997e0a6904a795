"""Session-wide real services: anvil and IPFS on 127.0.0.1, started once.

Services already answering (``zkpot node up``) are reused and left running;
those this session starts are stopped by PID when it ends.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zkpot import services

_started: list[services.Service] = []


def pytest_configure(config: pytest.Config) -> None:
    # Start before ape's plugin connects, so it finds anvil answering and reuses it.
    if hasattr(config, "workerinput"):
        return
    for service in services.services(services.ServicesConfig()):
        if not service.answers():
            service.start()
            _started.append(service)


def pytest_unconfigure(config: pytest.Config) -> None:
    for service in reversed(_started):
        service.stop()
    _started.clear()


@pytest.fixture(scope="session")
def local_services() -> Iterator[services.ServicesConfig]:
    """The services' configuration; they are up for the whole session."""
    yield services.ServicesConfig()
