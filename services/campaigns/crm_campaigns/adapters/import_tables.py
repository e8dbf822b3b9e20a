"""Tables of address-list imports: the import with its progress, the uploaded file until the import finishes, and
one report row per row of the file."""
from crm_shared.db import JsonDocument
from sqlalchemy import (JSON, Boolean, Column, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Table,
                        Text, false)
from sqlalchemy.dialects import postgresql

from crm_campaigns.adapters import orm

# Python None stored as SQL NULL, not as the JSON value null, so "IS NULL" finds it.
OptionalJson = JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")

address_imports = Table(
    "address_imports",
    orm.metadata,
    Column("import_id", String(36), primary_key=True),
    Column("campaign_id", String(36), ForeignKey("campaigns.campaign_id", ondelete="CASCADE"), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("file_format", String(8), nullable=False),                # csv | xlsx
    Column("mapping", JsonDocument, nullable=False),                 # {file column: target}
    Column("default_line_of_business", String(100), nullable=False),
    Column("creator_lines", OptionalJson, nullable=True),            # lines of business rows may have; null: any
    Column("status", String(16), nullable=False),                    # pending | running | completed | failed
    Column("total_rows", Integer, nullable=True),                    # known once the file has been counted
    Column("processed_rows", Integer, nullable=False, server_default="0"),
    Column("accepted", Integer, nullable=False, server_default="0"),
    Column("duplicates", Integer, nullable=False, server_default="0"),
    Column("rejected", Integer, nullable=False, server_default="0"),
    Column("error", Text, nullable=True),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("version", Integer, nullable=False),                      # one more for every processing run
)
Index("ix_address_imports_campaign", address_imports.c.campaign_id, address_imports.c.created_at)

import_files = Table(
    "import_files",
    orm.metadata,
    Column("import_id", String(36), ForeignKey("address_imports.import_id", ondelete="CASCADE"), primary_key=True),
    Column("content", LargeBinary, nullable=False),
)

import_rows = Table(
    "import_rows",
    orm.metadata,
    Column("import_id", String(36), ForeignKey("address_imports.import_id", ondelete="CASCADE"), primary_key=True),
    Column("row_number", Integer, primary_key=True),
    Column("outcome", String(16), nullable=False),                   # accepted | duplicate | rejected
    Column("reason", String(500), nullable=True),
    Column("field", String(120), nullable=True),
    Column("party_id", String(36), nullable=True),                   # the new suspect, or the party duplicated
    Column("joins_campaign", Boolean, nullable=False, server_default=false()),
    Column("name_key", String(400), nullable=True),                  # dedupe keys, so later rows and imports
    Column("postal_key", String(20), nullable=True),                 # find this party before the replica has it
    Column("phone_key", String(40), nullable=True),
    Column("email_key", String(320), nullable=True),
    Column("suspect", OptionalJson, nullable=True),                  # suspect_imported data until applied
)
Index("ix_import_rows_outcome", import_rows.c.import_id, import_rows.c.outcome, import_rows.c.row_number)
Index("ix_import_rows_dedupe", import_rows.c.name_key, import_rows.c.postal_key)
