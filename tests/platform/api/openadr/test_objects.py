"""OpenADR 3.1 object shapes: what openadr3.yaml accepts and refuses."""

from __future__ import annotations

import pydantic
import pytest

from openvpp.platform.api.openadr.objects import EventRequest, ProgramRequest, SubscriptionRequest, ValuesMap


def test_durations_follow_the_spec_pattern():
    for good in ("PT15M", "P1D", "P9999Y", "-PT1H", "P1DT2H3M4.5S"):
        EventRequest(programID="p", duration=good)
    for bad in ("15M", "P", "PT", "1 hour"):
        with pytest.raises(pydantic.ValidationError):
            EventRequest(programID="p", duration=bad)


def test_names_ids_and_priorities():
    with pytest.raises(pydantic.ValidationError):
        ProgramRequest(programName="x" * 129)
    with pytest.raises(pydantic.ValidationError):
        EventRequest(programID="not/an/id")
    with pytest.raises(pydantic.ValidationError):
        EventRequest(programID="p", priority=-1)


def test_values_keep_their_type():
    v = ValuesMap(type="CURVE", values=[{"x": 1, "y": 2.5}, 3, 1.5, "s", True])
    assert v.model_dump(mode="json")["values"] == [{"x": 1.0, "y": 2.5}, 3, 1.5, "s", True]


def test_webhooks_are_http_only():
    op = {"objects": ["EVENT"], "operations": ["CREATE"]}
    SubscriptionRequest(clientName="c", objectOperations=[{**op, "callbackUrl": "https://ven.example/cb"}])
    for bad in ("ftp://x/y", "file:///etc/passwd", "javascript:alert(1)"):
        with pytest.raises(pydantic.ValidationError):
            SubscriptionRequest(clientName="c", objectOperations=[{**op, "callbackUrl": bad}])
