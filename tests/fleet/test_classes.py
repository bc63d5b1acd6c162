"""The DER class registry: one list of classes, imported lazily, each a parameter table."""

from __future__ import annotations

import pytest

from openvpp.errors import ValidationError
from openvpp.fleet import DER_CLASSES, available_der_classes, der_class
from openvpp.services.catalogue import DER_CLASSES as SERVICE_DER_CLASSES
from openvpp.tables import ParamTable


def test_every_class_resolves_to_its_parameter_table():
    for name in DER_CLASSES:
        cls = der_class(name)
        assert issubclass(cls, ParamTable)
        assert cls.__name__ == DER_CLASSES[name][1]
    assert available_der_classes() == list(DER_CLASSES)


def test_services_name_the_same_classes():
    assert SERVICE_DER_CLASSES is DER_CLASSES


def test_unknown_class_lists_the_known_ones():
    with pytest.raises(ValidationError, match=r"unknown DER class 'fridge'.*battery"):
        der_class("fridge")
