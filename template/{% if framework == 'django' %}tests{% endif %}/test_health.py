"""Liveness and readiness probes."""

from __future__ import annotations

import pytest
from django.db import connections
from django.db.utils import OperationalError

from helpers import Client, assert_envelope


def test_health_answers_ok(client: Client) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_answers_ok_when_the_database_answers(client: Client) -> None:
    response = client.get("/api/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_answers_503_when_the_database_cannot_be_reached(client: Client) -> None:
    def unreachable(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("unable to open database file")

    assert client.get("/api/health").status_code == 200
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(connections["default"]), "cursor", unreachable)
        response = client.get("/api/ready")
    assert_envelope(response, 503, "not_ready")
    assert "unable to open" not in response.text
