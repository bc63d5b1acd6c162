"""The bundled tables: every value carries a unit and a source, and lookups fail clearly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from openvpp.data import bundled_table, bundled_value, list_bundled
from openvpp.errors import DataError


def test_every_bundled_csv_names_its_source():
    names = list_bundled()
    assert "household_der_assumptions.csv" in names
    for name in names:
        table = bundled_table(name)
        if isinstance(table, pd.DataFrame):
            assert "source" in table.columns, name
            assert table["source"].astype(str).str.strip().ne("").all(), name
            assert not table["source"].isna().any(), name
        else:
            assert "source" in str(table), name


def test_household_assumptions_are_well_formed():
    """Every assumption has a unit, a seed citation and a value in the range its unit allows."""
    table = bundled_table("household_der_assumptions")
    assert isinstance(table, pd.DataFrame)
    assert table["parameter"].is_unique
    assert table["source"].str.contains(r"seed 00\d", regex=True).all()
    values = table.set_index("parameter")["value"].astype(float)
    units = table.set_index("parameter")["unit"].astype(str).str.strip()
    assert np.isfinite(values).all() and (values > 0).all()
    fractions = values.index.str.endswith(("_share", "_efficiency")) | (values.index == "power_factor")
    assert (units[fractions] == "-").all()
    shares = values[fractions]
    assert ((shares > 0) & (shares <= 1)).all(), shares[(shares <= 0) | (shares > 1)]
    pu = values[units == "pu"]
    assert ((pu > 0.5) & (pu < 1.5)).all()
    # the looked-up value is the table's, whatever it is
    for name, value in values.items():
        assert bundled_value("household_der_assumptions", str(name)) == value


def test_unknown_bundled_table_and_parameter_raise_data_error():
    with pytest.raises(DataError, match="no bundled table"):
        bundled_table("does_not_exist")
    with pytest.raises(DataError, match="found 0 times"):
        bundled_value("household_der_assumptions", "no_such_parameter")
