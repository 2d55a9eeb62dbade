"""Standardizers: small named functions that turn a messy legacy column into standard values and issue codes.

Each takes a pandas Series (any dtype, any values) and returns a ``Standardized`` with the standardized
value and one issue code (from ``quality/issues.yaml``) per row, on the input's index; none raises.
"""

from quality.standardize.chemicals import parse_chemical_list, standardize_cas
from quality.standardize.codes import derive_certificate_status, map_codes
from quality.standardize.contacts import standardize_phone
from quality.standardize.coordinates import standardize_coordinates
from quality.standardize.dates import parse_date
from quality.standardize.divisions import DivisionTable, division_name, standardize_division
from quality.standardize.enterprise_codes import (
    is_valid_organisation_code,
    is_valid_registration_number,
    organisation_code_check_char,
    resolve_enterprise_codes,
    standardize_uscc,
)
from quality.standardize.numbers import parse_count, parse_decimal
from quality.standardize.person_ids import mask_name, mask_phone, mask_resident_id, standardize_resident_id
from quality.standardize.result import Standardized
from quality.standardize.text import NULL_STANDINS, clean_text, parse_flag

__all__ = [
    "NULL_STANDINS",
    "DivisionTable",
    "Standardized",
    "clean_text",
    "derive_certificate_status",
    "division_name",
    "is_valid_organisation_code",
    "is_valid_registration_number",
    "map_codes",
    "mask_name",
    "mask_phone",
    "mask_resident_id",
    "organisation_code_check_char",
    "parse_chemical_list",
    "parse_count",
    "parse_date",
    "parse_decimal",
    "parse_flag",
    "resolve_enterprise_codes",
    "standardize_cas",
    "standardize_coordinates",
    "standardize_division",
    "standardize_phone",
    "standardize_resident_id",
    "standardize_uscc",
]
