"""Shared report helpers (openvpp/report/__init__.py): writing figures, checking output folders early."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from openvpp.errors import ValidationError
from openvpp.report import check_out_dir, save_figure


def test_save_figure_writes_the_png_in_a_new_folder_and_closes_it(tmp_path):
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [1, 0])
    before = set(plt.get_fignums())
    path = save_figure(fig, tmp_path / "new" / "line.png", dpi=50)
    assert path == tmp_path / "new" / "line.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = plt.imread(path)
    assert image.shape[:2] == (50, 100)  # 2 x 1 inch at 50 dpi
    assert fig.number not in plt.get_fignums() and set(plt.get_fignums()) == before - {fig.number}


def test_check_out_dir(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    target = tmp_path / "a" / "b"
    assert check_out_dir(target) == target
    assert not (tmp_path / "a").exists()  # nothing left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]  # not even the probe file
    with pytest.raises(ValidationError, match=r"--where folder .* is a file"):
        check_out_dir(blocker / "out", "--where")
