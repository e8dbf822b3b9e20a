"""Tables (SQLAlchemy Core). The repositories map rows to the domain model by hand, so the model stays plain.

Search speed with a million parties comes from these indexes: every list query is "lines of business,
maybe a state, ordered by name (or created_at / customer_number), after the cursor", which is one btree range
scan. `name_key` is the lowercased display name in the "C" collation on PostgreSQL so that a case-insensitive
prefix (`LIKE 'abc%'`) and the sort use the same index.
"""
from __future__ import annotations

from sqlalchemy import (
    BigInteger, Column, DateTime, ForeignKey, Index, Integer, MetaData, Sequence, String, Table, UniqueConstraint,
    Uuid, func,
)

from crm_shared.db import JsonDocument
from crm_shared.messaging_tables import add_messaging_tables

metadata = MetaData()
messaging = add_messaging_tables(metadata)

NameKey = String(401).with_variant(String(401, collation="C"), "postgresql")

# PostgreSQL numbers customers from a sequence; SQLite (embedded demo mode) from a one-row counter.
customer_number_seq = Sequence("customer_number_seq", metadata=metadata)

customer_number_counter = Table(
    "customer_number_counter", metadata,
    Column("id", Integer, primary_key=True),
    Column("value", BigInteger, nullable=False),
)

lines_of_business = Table(
    "lines_of_business", metadata,
    Column("code", String(40), primary_key=True),
    Column("label", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

attribute_definitions = Table(
    "attribute_definitions", metadata,
    Column("name", String(63), primary_key=True),
    Column("type", String(16), nullable=False),
    Column("choices", JsonDocument, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

parties = Table(
    "parties", metadata,
    Column("id", Uuid, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("company_name", String(200)),
    Column("first_name", String(200)),
    Column("last_name", String(200)),
    Column("display_name", String(401), nullable=False),
    Column("name_key", NameKey, nullable=False),
    Column("lifecycle_state", String(16), nullable=False),
    Column("customer_number", String(32), unique=True),
    Column("line_of_business", String(40), ForeignKey("lines_of_business.code"), nullable=False),
    Column("primary_postal_code", String(20)),  # denormalised from addresses for the postal code range filter
    Column("addresses", JsonDocument, nullable=False),
    Column("phones", JsonDocument, nullable=False),
    Column("emails", JsonDocument, nullable=False),
    Column("attributes", JsonDocument, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Index("ix_parties_name", parties.c.name_key, parties.c.id)
Index("ix_parties_lob_name", parties.c.line_of_business, parties.c.name_key, parties.c.id)
Index("ix_parties_state_name", parties.c.lifecycle_state, parties.c.name_key, parties.c.id)
Index("ix_parties_lob_state_name", parties.c.line_of_business, parties.c.lifecycle_state, parties.c.name_key,
      parties.c.id)
Index("ix_parties_created", parties.c.created_at, parties.c.id)
Index("ix_parties_lob_created", parties.c.line_of_business, parties.c.created_at, parties.c.id)
Index("ix_parties_postal_code", parties.c.primary_postal_code)
Index("ix_parties_attributes", parties.c.attributes, postgresql_using="gin",
      postgresql_ops={"attributes": "jsonb_path_ops"})

contact_links = Table(
    "contact_links", metadata,
    Column("id", Uuid, primary_key=True),
    Column("person_id", Uuid, ForeignKey("parties.id"), nullable=False),
    Column("company_id", Uuid, ForeignKey("parties.id"), nullable=False),
    Column("role", String(100), nullable=False),
    Column("position", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("person_id", "company_id", "role", name="uq_contact_links_person_company_role"),
)
Index("ix_contact_links_company", contact_links.c.company_id)
