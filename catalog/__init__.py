"""The bureau's resource catalogue: resources, data items, rules and code lists, as data."""

from catalog.loader import Catalog, CatalogError, default_catalog, load_catalog
from catalog.model import CodeList, Item, Resource, Rule

__all__ = [
    "Catalog",
    "CatalogError",
    "CodeList",
    "Item",
    "Resource",
    "Rule",
    "default_catalog",
    "load_catalog",
]
