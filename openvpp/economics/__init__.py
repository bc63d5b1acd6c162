"""VPP economics: stacked-service business model, system dynamics, discounted cash flow, national potential.

Submodules: :mod:`~openvpp.economics.business`, :mod:`~openvpp.economics.dynamics`,
:mod:`~openvpp.economics.finance`, :mod:`~openvpp.economics.potential`.
"""
