"""a call request_id is unique per line of business, so one line cannot learn another line's request ids

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":  # the constraint has no name there: the table is rebuilt
        with op.batch_alter_table("calls", recreate="always", naming_convention=NAMES) as batch:
            batch.drop_constraint("uq_calls_request_id", type_="unique")
    else:
        op.drop_constraint("calls_request_id_key", "calls", type_="unique")
    op.create_index("ux_calls_line_request", "calls", ["line_of_business", "request_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_calls_line_request", "calls")
    op.create_unique_constraint("calls_request_id_key", "calls", ["request_id"])
