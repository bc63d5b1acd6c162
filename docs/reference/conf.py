"""Sphinx configuration of the OpenVPP API reference (built by ``make test`` with warnings as errors)."""

from __future__ import annotations

import importlib.metadata

project = "OpenVPP"
author = "OpenVPP contributors"
release = importlib.metadata.version("openvpp")
extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "sphinx.ext.napoleon"]
templates_path = ["_templates"]
exclude_patterns = ["_build"]
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True, "ignore-module-all": True}
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_member_order = "bysource"
# third-party base classes (SQLAlchemy, pydantic) carry docstrings with their own cross-references
autodoc_inherit_docstrings = False
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False
napoleon_use_ivar = True  # "Attributes" as fields, so dataclass fields are not described twice
html_theme = "alabaster"
html_title = f"OpenVPP {release} API reference"
# ambiguous cross-references of attribute names that numpy-style type specs mention ("shape", "n_steps")
suppress_warnings = ["autosummary.import_cycle", "ref.python"]
