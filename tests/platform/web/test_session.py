"""Dashboard sessions: a signed cookie that stands for an API key; forged, expired or revoked ones fail."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import update

from openvpp.platform.store.db import make_engine, session_factory
from openvpp.platform.store.models import ApiKey
from openvpp.platform.web.session import SESSION_TTL_S, check_csrf, open_session, read_session


@pytest.fixture
def store(db_url, keys):
    engine = make_engine(db_url)
    with session_factory(engine)() as s:
        yield s, keys
    engine.dispose()


def test_a_cookie_round_trips_to_the_same_principal(store):
    s, keys = store
    cookie, ws = open_session(s, keys["agg_a"])
    back = read_session(s, cookie)
    assert back is not None and back.principal == ws.principal and back.csrf == ws.csrf
    assert ws.principal.role == "aggregator" and ws.principal.tenant_name == "aggregator-a"
    assert keys["agg_a"] not in cookie  # the key itself never travels in the cookie


def test_unknown_keys_and_forged_cookies_are_refused(store):
    s, keys = store
    assert open_session(s, "ovpp_nothere00000_secret") is None
    assert open_session(s, "not a key") is None
    cookie, _ = open_session(s, keys["agg_a"])
    payload, sig = cookie.split(".")
    other, _ = open_session(s, keys["agg_b"])
    assert read_session(s, f"{other.split('.')[0]}.{sig}") is None  # B's payload with A's signature
    assert read_session(s, f"{payload}.{sig[:-2]}xx") is None
    assert read_session(s, None) is None and read_session(s, "garbage") is None


def test_sessions_expire_and_end_with_their_key(store):
    s, keys = store
    cookie, ws = open_session(s, keys["dso"])
    assert read_session(s, cookie, now_s=time.time() + SESSION_TTL_S + 5) is None
    s.execute(update(ApiKey).where(ApiKey.id == ws.principal.key_id).values(revoked_s=int(time.time())))
    s.commit()
    assert read_session(s, cookie) is None


def test_csrf_tokens_must_match_exactly():
    assert check_csrf("abc", "abc")
    assert not check_csrf("abc", "abd") and not check_csrf("abc", None) and not check_csrf("", "")
