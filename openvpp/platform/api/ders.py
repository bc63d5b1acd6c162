"""``/v1/sites`` and ``/v1/ders``: registration and update of sites and DERs (seed 001 §2.1: location,
capabilities, control affiliation, VPP id). Aggregators write and read their own; the DSO reads all."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from openvpp.platform.api.auth import Principal, require, tenant_scoped
from openvpp.platform.api.common import Limit, Offset, audit, not_found, now_s, utc
from openvpp.platform.api.deps import get_session
from openvpp.platform.api.errors import ApiError
from openvpp.platform.api.schemas import DerIn, DerOut, DerPatch, SiteIn, SiteOut, SitePatch
from openvpp.platform.store.models import Der, Site

__all__ = ["der_out", "router", "site_out", "visible_der"]

router = APIRouter(tags=["registration"])


def site_out(s: Site) -> SiteOut:
    """Response body of a site.

    Parameters
    ----------
    s : Site
        Stored site.

    Returns
    -------
    SiteOut
    """
    return SiteOut(
        id=s.id,
        external_id=s.external_id,
        name=s.name,
        lat_deg=s.lat_deg,
        lon_deg=s.lon_deg,
        address=s.address,
        phases=s.phases,
        created=utc(s.created_s),
        updated=utc(s.updated_s),
    )


def der_out(d: Der, s: Site) -> DerOut:
    """Response body of a DER with its site's location.

    Parameters
    ----------
    d : Der
        Stored DER.
    s : Site
        Its site.

    Returns
    -------
    DerOut
    """
    return DerOut(
        id=d.id,
        site_id=d.site_id,
        external_id=d.external_id,
        der_class=d.der_class,
        p_max_kw=d.p_max_kw,
        e_max_kwh=d.e_max_kwh,
        control_affiliation=d.control_affiliation,
        vpp_id=d.vpp_id,
        active=d.active,
        lat_deg=s.lat_deg,
        lon_deg=s.lon_deg,
        created=utc(d.created_s),
        updated=utc(d.updated_s),
    )


def visible_site(session: Session, principal: Principal, site_id: str, write: bool = False) -> Site:
    """The site ``site_id`` if the caller may see it (404 otherwise).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Session.
    principal : Principal
        Caller.
    site_id : str
        Site id.
    write : bool
        True when it will be changed.

    Returns
    -------
    Site
    """
    site = session.scalars(
        tenant_scoped(select(Site).where(Site.id == site_id), principal, Site, write)
    ).first()
    if site is None:
        raise not_found("site_id", "site", site_id)
    return site


def visible_der(session: Session, principal: Principal, der_id: str, write: bool = False) -> tuple[Der, Site]:
    """The DER ``der_id`` and its site if the caller may see it (404 otherwise).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Session.
    principal : Principal
        Caller.
    der_id : str
        DER id.
    write : bool
        True when it will be changed.

    Returns
    -------
    (Der, Site)
    """
    row = session.execute(
        tenant_scoped(
            select(Der, Site).join(Site, Site.id == Der.site_id).where(Der.id == der_id),
            principal,
            Der,
            write,
        )
    ).first()
    if row is None:
        raise not_found("der_id", "DER", der_id)
    return row[0], row[1]


@router.post("/sites", status_code=201, response_model=SiteOut)
def create_site(
    body: SiteIn, p: Principal = Depends(require("der:write")), session: Session = Depends(get_session)
) -> SiteOut:
    """Register a site (its ``external_id`` is unique within the aggregator)."""
    if session.scalars(
        select(Site.id).where(Site.tenant_id == p.tenant_id, Site.external_id == body.external_id)
    ).first():
        raise ApiError(
            409, "external_id", f"a site with external_id {body.external_id!r} is already registered"
        )
    t = now_s()
    site = Site(id=str(uuid.uuid4()), tenant_id=p.tenant_id, **body.model_dump(), created_s=t, updated_s=t)
    session.add(site)
    audit(session, p, "create", "site", site.id, {"external_id": body.external_id})
    session.commit()
    return site_out(site)


@router.get("/sites", response_model=list[SiteOut])
def list_sites(
    limit: Limit = 100,
    offset: Offset = 0,
    p: Principal = Depends(require("der:read")),
    session: Session = Depends(get_session),
) -> list[SiteOut]:
    """Sites the caller may see, oldest first."""
    rows = session.scalars(
        tenant_scoped(select(Site), p, Site).order_by(Site.created_s, Site.id).limit(limit).offset(offset)
    )
    return [site_out(s) for s in rows]


@router.get("/sites/{site_id}", response_model=SiteOut)
def get_site(
    site_id: str, p: Principal = Depends(require("der:read")), session: Session = Depends(get_session)
) -> SiteOut:
    """One site."""
    return site_out(visible_site(session, p, site_id))


@router.patch("/sites/{site_id}", response_model=SiteOut)
def update_site(
    site_id: str,
    body: SitePatch,
    p: Principal = Depends(require("der:write")),
    session: Session = Depends(get_session),
) -> SiteOut:
    """Change a site's name, location or phases."""
    site = visible_site(session, p, site_id, write=True)
    changes = body.model_dump(exclude_unset=True)
    for k, v in changes.items():
        if v is None and k == "phases":
            continue
        setattr(site, k, v)
    site.updated_s = now_s()
    audit(session, p, "update", "site", site.id, {k: v for k, v in changes.items()})
    session.commit()
    return site_out(site)


@router.post("/ders", status_code=201, response_model=DerOut)
def create_der(
    body: DerIn, p: Principal = Depends(require("der:write")), session: Session = Depends(get_session)
) -> DerOut:
    """Register a DER behind one of the caller's sites."""
    site = session.scalars(select(Site).where(Site.id == body.site_id, Site.tenant_id == p.tenant_id)).first()
    if site is None:
        raise not_found("site_id", "site", body.site_id)
    if session.scalars(
        select(Der.pk).where(Der.tenant_id == p.tenant_id, Der.external_id == body.external_id)
    ).first():
        raise ApiError(
            409, "external_id", f"a DER with external_id {body.external_id!r} is already registered"
        )
    if body.der_class in ("battery", "ev") and body.e_max_kwh is None:
        raise ApiError(
            422, "e_max_kwh", f"a {body.der_class} needs its usable energy capacity e_max_kwh (kWh)"
        )
    t = now_s()
    der = Der(
        id=str(uuid.uuid4()),
        tenant_id=p.tenant_id,
        active=True,
        created_s=t,
        updated_s=t,
        **body.model_dump(),
    )
    session.add(der)
    audit(session, p, "create", "der", der.id, {"external_id": body.external_id, "site_id": site.id})
    session.commit()
    return der_out(der, site)


@router.get("/ders", response_model=list[DerOut])
def list_ders(
    site_id: str | None = Query(default=None, max_length=100),
    limit: Limit = 100,
    offset: Offset = 0,
    p: Principal = Depends(require("der:read")),
    session: Session = Depends(get_session),
) -> list[DerOut]:
    """DERs the caller may see (optionally of one site), oldest first."""
    q = tenant_scoped(select(Der, Site).join(Site, Site.id == Der.site_id), p, Der)
    if site_id is not None:
        q = q.where(Der.site_id == site_id)
    rows = session.execute(q.order_by(Der.pk).limit(limit).offset(offset)).all()
    return [der_out(d, s) for d, s in rows]


@router.get("/ders/{der_id}", response_model=DerOut)
def get_der(
    der_id: str, p: Principal = Depends(require("der:read")), session: Session = Depends(get_session)
) -> DerOut:
    """One DER."""
    return der_out(*visible_der(session, p, der_id))


@router.patch("/ders/{der_id}", response_model=DerOut)
def update_der(
    der_id: str,
    body: DerPatch,
    p: Principal = Depends(require("der:write")),
    session: Session = Depends(get_session),
) -> DerOut:
    """Change a DER's ratings, affiliation, VPP id or active flag."""
    der, site = visible_der(session, p, der_id, write=True)
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items()}
    for k in ("p_max_kw", "active"):
        if k in changes and changes[k] is None:
            raise ApiError(422, k, f"{k} cannot be null")
    for k, v in changes.items():
        setattr(der, k, v)
    der.updated_s = now_s()
    audit(session, p, "update", "der", der.id, changes)
    session.commit()
    return der_out(der, site)
