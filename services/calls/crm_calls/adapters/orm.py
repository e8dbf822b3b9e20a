"""Tables of the calls service: the party replica and its contact links, plus the messaging tables."""
from crm_shared.messaging_tables import add_messaging_tables
from sqlalchemy import Boolean, Column, DateTime, Index, Integer, MetaData, String, Table, false

metadata = MetaData()
messaging = add_messaging_tables(metadata)

customer_replica = Table(
    "customer_replica",
    metadata,
    Column("party_id", String(36), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("display_name", String, nullable=False),
    Column("lifecycle_state", String(16), nullable=False),
    Column("customer_number", String, nullable=True),
    Column("line_of_business", String, nullable=False),
    Column("postal_code", String, nullable=True),
    Column("city", String, nullable=True),
    Column("phone", String, nullable=True),
    Column("email", String, nullable=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("deactivated", Boolean, nullable=False, server_default=false()),
)
Index("ix_customer_replica_name", customer_replica.c.display_name, customer_replica.c.party_id)
Index("ix_customer_replica_lob_name", customer_replica.c.line_of_business, customer_replica.c.display_name,
      customer_replica.c.party_id)

contact_link_replica = Table(
    "contact_link_replica",
    metadata,
    Column("link_id", String(36), primary_key=True),
    Column("person_id", String(36), nullable=False, index=True),
    Column("company_id", String(36), nullable=False, index=True),
    Column("role", String, nullable=True),
    Column("position", String, nullable=True),
    Column("unlinked", Boolean, nullable=False, server_default=false()),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
