"""Browser sessions of the dashboard: a signed cookie that stands for an API key, and CSRF tokens.

A person logs in with an API key once; the page then keeps a session cookie (``HttpOnly``, ``SameSite=Lax``,
``Secure`` when served over HTTPS) holding the key's public id, an expiry and a CSRF token, signed with
HMAC-SHA256. The signing secret is the key's own stored SHA-256 digest, which never leaves the server: every
API worker over the same store can check the cookie without a shared secret of its own, and revoking the key
in the store ends its sessions at once. The cookie never holds the key itself.

Every request re-reads the key's tenant and scopes from the store (the same role bounds as the API), so the
page sees exactly what the key would see through ``/v1``. State-changing forms carry the CSRF token of the
session (double submit: a hidden field must equal the token inside the signed cookie).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from openvpp.platform.api.auth import Principal
from openvpp.platform.store.keys import ROLE_SCOPES, lookup_key
from openvpp.platform.store.models import ApiKey, Tenant

__all__ = [
    "COOKIE",
    "LOGIN_COOKIE",
    "SESSION_TTL_S",
    "WebSession",
    "check_csrf",
    "open_session",
    "read_session",
]

#: name of the session cookie
COOKIE = "ovpp_session"
#: name of the cookie carrying the login form's CSRF token (before a session exists)
LOGIN_COOKIE = "ovpp_login"
#: how long a session lasts without logging in again [s]
SESSION_TTL_S = 8 * 3600


@dataclass(frozen=True)
class WebSession:
    """A logged-in browser: who it is and the CSRF token its forms must send.

    Parameters
    ----------
    principal : Principal
        The tenant, role and scopes of the key the session stands for.
    csrf : str
        Token that every state-changing form must echo.
    expires_s : int
        Unix time the session ends. [s]
    """

    principal: Principal
    csrf: str
    expires_s: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(payload: str, secret_sha256: str) -> str:
    return _b64(hmac.new(bytes.fromhex(secret_sha256), payload.encode("ascii"), hashlib.sha256).digest())


def open_session(session: Session, api_key: str, now_s: float | None = None) -> tuple[str, WebSession] | None:
    """Check an API key typed at the login form and make the session cookie for it.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Open store session.
    api_key : str
        The key as typed.
    now_s : float, optional
        Unix time (default now). [s]

    Returns
    -------
    (str, WebSession) or None
        The cookie value and the session, or None when the key is unknown, revoked or malformed.
    """
    rec = lookup_key(session, api_key.strip())
    if rec is None:
        return None
    digest = session.execute(select(ApiKey.secret_sha256).where(ApiKey.id == rec.key_id)).scalar_one()
    expires = int((time.time() if now_s is None else now_s) + SESSION_TTL_S)
    csrf = secrets.token_urlsafe(24)
    payload = _b64(json.dumps({"kid": rec.key_id, "exp": expires, "csrf": csrf}).encode("utf-8"))
    cookie = f"{payload}.{_sign(payload, digest)}"
    return cookie, WebSession(Principal.from_record(rec), csrf, expires)


def read_session(session: Session, cookie: str | None, now_s: float | None = None) -> WebSession | None:
    """The session a cookie stands for, or None (absent, forged, expired, or its key revoked).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Open store session.
    cookie : str or None
        Value of the session cookie.
    now_s : float, optional
        Unix time (default now). [s]

    Returns
    -------
    WebSession or None
    """
    if not cookie or cookie.count(".") != 1 or len(cookie) > 1024:
        return None
    payload, signature = cookie.split(".")
    try:
        data = json.loads(_unb64(payload))
        kid, expires, csrf = str(data["kid"]), int(data["exp"]), str(data["csrf"])
    except (ValueError, KeyError, TypeError):
        return None
    if expires < (time.time() if now_s is None else now_s):
        return None
    row = session.execute(
        select(ApiKey, Tenant).join(Tenant, Tenant.id == ApiKey.tenant_id).where(ApiKey.id == kid)
    ).first()
    if row is None:
        return None
    key, tenant = row
    if key.revoked_s is not None or not hmac.compare_digest(signature, _sign(payload, key.secret_sha256)):
        return None
    scopes = frozenset(key.scopes.split()) & ROLE_SCOPES[tenant.role]
    return WebSession(Principal(tenant.id, tenant.role, scopes, key.id, tenant.name), csrf, expires)


def check_csrf(expected: str, given: str | None) -> bool:
    """Whether a form's CSRF token matches the expected one (constant-time).

    Parameters
    ----------
    expected : str
        The token of the session (or of the login cookie).
    given : str or None
        The token the form sent.

    Returns
    -------
    bool
    """
    return bool(expected) and given is not None and hmac.compare_digest(expected, given)
