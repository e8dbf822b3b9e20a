"""Tables of the campaigns service; for now only the messaging tables."""
from crm_shared.messaging_tables import add_messaging_tables
from sqlalchemy import MetaData

metadata = MetaData()
messaging = add_messaging_tables(metadata)
