"""Sun times and the approximate solar curve (openvpp.envelopes.solar, seed 001 Appendix A.1, §2.4)."""

from __future__ import annotations

import numpy as np
import pvlib
import pytest
from scipy import integrate, stats

from openvpp.envelopes.metrics import available_energy_kwh
from openvpp.envelopes.solar import (
    daylight_mask,
    get_location,
    is_southern,
    shash_pdf,
    solar_curve_kw,
    solar_shape,
    step_midpoints_h,
    sun_times_h,
)
from openvpp.errors import ValidationError


def test_solar_curve_available_energy_is_calibrated_to_table4():
    # Table 4 of seed 001: 43 kWh available energy per site on a January day in Adelaide
    rise, sset = sun_times_h(["2021-01-15"], "adelaide")
    assert 5.5 < rise[0] < 7.0 and 19.5 < sset[0] < 21.0  # daylight saving time in January
    s = solar_curve_kw(rise, sset, 288)
    d = (np.arange(288) + 0.5) / 12 >= rise[0]
    d &= (np.arange(288) + 0.5) / 12 <= sset[0]
    ae = available_energy_kwh(s[0], d)
    assert 40.0 < ae < 46.0
    assert s.min() == pytest.approx(5.0) and s.max() == pytest.approx(10.0)



def test_shash_reduces_to_the_normal_density_and_integrates_to_one():
    x = np.linspace(-4, 4, 81)
    np.testing.assert_allclose(shash_pdf(x, 1.0, 2.0, 0.0, 1.0), stats.norm.pdf(x, 1.0, 2.0), rtol=1e-12)
    total, _ = integrate.quad(lambda v: float(shash_pdf(v, 0.5, 1.5, 0.3, 1.2)), -np.inf, np.inf)
    assert total == pytest.approx(1.0, abs=1e-8)


def test_daylight_steps_and_curve_by_hand():
    # hourly steps, sun from 06:00 to 18:00: midpoints 06:30 ... 17:30 are daylight (12 steps)
    assert step_midpoints_h(24)[[0, 23]] == pytest.approx([0.5, 23.5])
    mask = daylight_mask([6.0], [18.0], 24)[0]
    assert mask.tolist() == [6 <= h < 18 for h in range(24)]
    shape = solar_shape([6.0], [18.0], 24)[0]
    assert np.all(shape[~mask] == 0.0) and shape.max() == pytest.approx(1.0)
    np.testing.assert_allclose(shape, shape[::-1], atol=1e-12)  # nu = 0: symmetric about noon
    # the stretch of 1.2 flattens the midday: 11:30 and 12:30 are capped at 1, 06:30 is not
    assert shape[11] == shape[12] == 1.0 and 0.0 < shape[6] < 1.0
    np.testing.assert_allclose(solar_curve_kw([6.0], [18.0], 24, p_pv_kw=3.0, p_batt_kw=2.0)[0],
                               2.0 + 3.0 * shape)


def test_southern_winter_days_are_short():
    assert is_southern("santiago") and not is_southern(pvlib.location.Location(51.5, 0.0))
    rise, sset = sun_times_h(["2021-06-21", "2021-12-21"], "santiago")
    day_h = sset - rise
    assert 9.5 < day_h[0] < 10.5 and 14.0 < day_h[1] < 14.8  # 33.4 deg S: ~10 h and ~14.4 h of daylight


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: get_location("paris"), "location 'paris' is not built in"),
        (lambda: daylight_mask([18.0], [6.0]), "sunset_h must be later than sunrise_h"),
        (lambda: step_midpoints_h(0), "n_steps must be a positive integer"),
        (lambda: solar_curve_kw([6.0], [18.0], p_pv_kw=-1.0), "p_pv_kw and p_batt_kw must be finite"),
        (lambda: solar_shape([6.0], [18.0], stretch=0.0), "stretch must be > 0"),
    ],
)
def test_bad_inputs_are_named(call, message):
    with pytest.raises(ValidationError, match=message):
        call()
