"""The error hierarchy: every deliberate error is an OpenVPPError, validation errors are also ValueErrors."""

from __future__ import annotations

import pytest

from openvpp import errors


@pytest.mark.parametrize("cls", [errors.ValidationError, errors.InfeasibleError, errors.DataError,
                                 errors.ConfigError])
def test_every_error_is_an_openvpp_error(cls):
    assert issubclass(cls, errors.OpenVPPError)
    with pytest.raises(errors.OpenVPPError, match="named field"):
        raise cls("named field")


def test_validation_error_is_also_a_value_error():
    # callers that catch ValueError (numpy, pandas habits) still see bad input
    assert issubclass(errors.ValidationError, ValueError)
    assert not issubclass(errors.InfeasibleError, ValueError)
