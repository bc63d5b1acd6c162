"""Shared CLI helpers (openvpp.cli.common): output-file checks, standard JSON."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from openvpp.cli.common import check_out_file, json_safe, print_json
from openvpp.errors import ValidationError


def test_check_out_file(tmp_path):
    assert check_out_file(tmp_path / "x.json", "--envelopes") == tmp_path / "x.json"
    with pytest.raises(ValidationError, match=r"--envelopes .* is a directory"):
        check_out_file(tmp_path, "--envelopes")
    with pytest.raises(ValidationError, match=r"--envelopes .*does not exist"):
        check_out_file(tmp_path / "no" / "dir" / "x.json", "--envelopes")
    assert not (tmp_path / "no").exists()
    with pytest.raises(ValidationError, match=r"--export .* must end with"):
        check_out_file(tmp_path / "x.txt", "--export", (".csv", ".parquet"))


def test_json_is_standard(capsys):
    doc = {"a": float("nan"), "b": [np.float32(1.5), np.inf, -math.inf], "c": np.array([1, 2]), "d": (None,)}
    assert json_safe(doc) == {"a": None, "b": [1.5, None, None], "c": [1, 2], "d": [None]}
    print_json(doc)
    assert json.loads(capsys.readouterr().out)["a"] is None


