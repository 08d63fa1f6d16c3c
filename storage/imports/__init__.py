"""CSV import of the landlord's tenants and cases: validate every row, then write all or nothing."""

from storage.imports.cases import import_cases
from storage.imports.errors import ImportRejected, ImportResult, RowError
from storage.imports.tenants import import_tenants

__all__ = ["ImportRejected", "ImportResult", "RowError", "import_cases", "import_tenants"]
