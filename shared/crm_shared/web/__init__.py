from crm_shared.web.app import create_service_app, current_principal, require_role
from crm_shared.web.errors import ProblemError
from crm_shared.web.idempotency import idempotent
from crm_shared.web.paths import path_uuid
from crm_shared.web.pagination import PageQuerySchema, decode_cursor, encode_cursor, page_of

__all__ = [
    "create_service_app", "current_principal", "require_role", "ProblemError", "idempotent",
    "PageQuerySchema", "decode_cursor", "encode_cursor", "page_of", "path_uuid",
]
