"""Stand-in for the legacy supervision database: its tables, its quirks, and a generator with a truth file."""

from sandbox.legacy.generate import GenerationSummary, generate_legacy
from sandbox.legacy.quirks import QUIRKS
from sandbox.legacy.tables import LEGACY_METADATA, LEGACY_TABLES
from sandbox.legacy.truth import read_truth

__all__ = ["LEGACY_METADATA", "LEGACY_TABLES", "QUIRKS", "GenerationSummary", "generate_legacy", "read_truth"]
