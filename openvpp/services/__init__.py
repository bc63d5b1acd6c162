"""Grid-service catalogue (time blocks, eligible DERs, event limits) and remuneration rules."""

from openvpp.services.catalogue import RemunerationRule, Service, ServiceCatalogue, load_catalogue

__all__ = ["RemunerationRule", "Service", "ServiceCatalogue", "load_catalogue"]
