"""The party search as one SQL statement: filters, then a keyset range after the cursor, ordered, limit + 1."""
from __future__ import annotations

from sqlalchemy import Select, select, tuple_, type_coerce
from sqlalchemy.dialects.postgresql import JSONB

from crm_customers.adapters.orm import parties as P
from crm_customers.domain.search import AttributeFilter, PartySearch

SORT_COLUMNS = {"name": P.c.name_key, "created_at": P.c.created_at, "customer_number": P.c.customer_number}


def search_statement(criteria: PartySearch, dialect: str) -> Select:
    column = SORT_COLUMNS[criteria.sort]
    conditions = [*_filters(criteria), *(_attribute_condition(f, dialect) for f in criteria.attributes)]
    if criteria.sort == "customer_number":
        # Sorting by customer number lists only parties that have one (suspects and prospects have none).
        conditions.append(column.is_not(None))
    if criteria.after is not None:
        key, after = tuple_(column, P.c.id), tuple_(*criteria.after)
        conditions.append(key < after if criteria.descending else key > after)
    order = (column.desc(), P.c.id.desc()) if criteria.descending else (column.asc(), P.c.id.asc())
    return select(P).where(*conditions).order_by(*order).limit(criteria.limit + 1)


def _filters(c: PartySearch) -> list:
    found = []
    if c.lines_allowed is not None:
        found.append(P.c.line_of_business.in_(sorted(c.lines_allowed)))
    if c.name_prefix:
        found.append(P.c.name_key.like(_escape_like(c.name_prefix.lower()) + "%", escape="\\"))
    for column, value in ((P.c.lifecycle_state, c.lifecycle_state), (P.c.kind, c.kind),
                          (P.c.line_of_business, c.line_of_business)):
        if value is not None:
            found.append(column == value)
    if c.postal_code_from is not None:
        found.append(P.c.primary_postal_code >= c.postal_code_from)
    if c.postal_code_to is not None:
        found.append(P.c.primary_postal_code <= c.postal_code_to)
    return found


def _attribute_condition(f: AttributeFilter, dialect: str):
    if f.op == "eq" and dialect == "postgresql":
        # Containment is what the GIN (jsonb_path_ops) index answers.
        return type_coerce(P.c.attributes, JSONB).contains({f.name: f.value})
    element = P.c.attributes[f.name]
    value = element.as_float() if isinstance(f.value, (int, float)) and not isinstance(f.value, bool) \
        else element.as_boolean() if isinstance(f.value, bool) else element.as_string()
    if f.op == "min":
        return value >= f.value
    if f.op == "max":
        return value <= f.value
    return value == f.value


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
