"""HTTP API of address-list imports: upload into a campaign, follow the progress, read the row-by-row report."""
from __future__ import annotations

import csv
import io
import logging

from crm_shared.web import ProblemError, current_principal, decode_cursor, idempotent, page_of, path_uuid, require_role
from crm_shared.web.pagination import integer, text, timestamp
from flask import Response, current_app, request, stream_with_context, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict

from crm_campaigns.entrypoints import import_schemas as s
from crm_campaigns.service_layer import imports as use_cases


class _MultipartParser(FlaskParser):
    def load_files(self, req, schema):
        """A multipart/form-data body's files AND text fields, so that one schema describes the whole upload."""
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)


class _UploadingBlueprint(Blueprint):
    ARGUMENTS_PARSER = _MultipartParser()


imports = _UploadingBlueprint("imports", __name__, description="Address lists imported into campaigns")
EDITORS = ("marketing",)
FORM_OVERHEAD = 2**20        # the mapping and multipart framing around the file
CSV_CHUNK = 5000
CSV_COLUMNS = ("row_number", "outcome", "reason", "field", "party_id")
log = logging.getLogger(__name__)


def uow():
    return current_app.extensions["crm"]["uow"]()


def settings():
    """The campaigns settings (crm_campaigns/config.py): IMPORTS_INLINE, IMPORT_MAX_BYTES among them."""
    return current_app.extensions["crm"]["settings"]


@imports.before_request
def limit_upload_size():
    # Refuses an oversized upload while reading it, before it is held in memory.
    if request.method == "POST":
        request.max_content_length = settings().import_max_bytes + FORM_OVERHEAD


@imports.route("/campaigns/<uuid_str:campaign_id>/imports")
class CampaignImports(MethodView):
    @imports.arguments(s.PageQuerySchema, location="query")
    @imports.response(200, s.ImportPageSchema)
    def get(self, args, campaign_id: str):
        """The campaign's imports, newest first (keyset pagination)."""
        after = _imports_cursor(args["cursor"])
        rows = use_cases.campaign_imports(uow(), current_principal(), path_uuid(campaign_id, "campaign_id"),
                                          limit=args["limit"] + 1, after=after)
        return page_of(rows, args["limit"], lambda r: [r.created_at.isoformat(), r.import_id])

    @idempotent
    @require_role(*EDITORS)
    @imports.arguments(s.ImportUploadSchema, location="files")
    @imports.response(202, s.ImportSchema, headers={"Location": {"description": "the import",
                                                                 "schema": {"type": "string"}}})
    @imports.alt_response(413, description="the file is larger than IMPORT_MAX_BYTES")
    @imports.alt_response(415, description="the file is neither CSV nor XLSX")
    def post(self, form, campaign_id: str):
        """Uploads an address list (multipart/form-data: `file`, `mapping`, `default_line_of_business`) and
        imports it in the background. Accepted rows become suspects in the customers service, duplicates of
        known parties join as those parties; follow the progress at the Location. A file that is not CSV/XLSX
        (415), a header that cannot be read or a mapping that does not fit (422) store nothing."""
        upload = form["file"]
        row = use_cases.start_import(uow(), current_principal(), path_uuid(campaign_id, "campaign_id"),
                                     upload.filename or "", upload.mimetype or None, upload.read(), form["mapping"],
                                     form["default_line_of_business"], max_bytes=settings().import_max_bytes)
        _process(row["import_id"])
        with uow() as work:
            stored = work.imports.get(row["import_id"])
        return stored, 202, {"Location": url_for("imports.ImportItem", import_id=row["import_id"])}


def _process(import_id: str) -> None:
    if settings().imports_inline:  # embedded mode, tests: in the request instead of in a Celery worker
        use_cases.process_import(current_app.extensions["crm"]["uow"], import_id)
        return
    try:
        from crm_campaigns.entrypoints.tasks import process_address_import

        process_address_import.delay(import_id)
    except Exception as exc:  # noqa: BLE001 - any broker failure means the upload cannot go on
        log.exception("could not queue import %s", import_id)
        use_cases.abandon(uow(), import_id, "the import could not be queued for processing; upload the file again")
        raise ProblemError(503, "Service Unavailable", "The import could not be queued; try again later.") from exc


@imports.route("/imports/<uuid_str:import_id>")
class ImportItem(MethodView):
    @imports.response(200, s.ImportSchema)
    def get(self, import_id: str):
        """An import: status, progress (processed_rows of total_rows) and the counts per outcome."""
        return use_cases.get_import(uow(), current_principal(), path_uuid(import_id, "import_id"))


@imports.route("/imports/<uuid_str:import_id>/rows")
class ImportRows(MethodView):
    @imports.arguments(s.ImportRowQuerySchema, location="query")
    @imports.response(200, s.ImportRowPageSchema)
    def get(self, args, import_id: str):
        """The report, one row per row of the file in file order; `outcome` filters (keyset pagination)."""
        after = _row_cursor(args["cursor"])
        rows = use_cases.import_rows(uow(), current_principal(), path_uuid(import_id, "import_id"),
                                     limit=args["limit"] + 1, after=after, outcome=args["outcome"])
        return page_of(rows, args["limit"], lambda r: [r["row_number"]])


@imports.route("/imports/<uuid_str:import_id>/report.csv")
class ImportReport(MethodView):
    @imports.response(200, {"type": "string"}, content_type="text/csv",
                      description="columns row_number, outcome, reason, field, party_id")
    def get(self, import_id: str):
        """The whole report as CSV (UTF-8 with byte order mark, so spreadsheets read umlauts), streamed."""
        import_id = path_uuid(import_id, "import_id")
        found = use_cases.get_import(uow(), current_principal(), import_id)
        filename = f"import-{found.import_id}-report.csv"
        return Response(stream_with_context(_report_lines(import_id)), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _report_lines(import_id: str):
    yield "\ufeff" + _csv_text([CSV_COLUMNS])
    after = 0
    while True:
        with uow() as work:
            rows = work.imports.report(import_id, limit=CSV_CHUNK, after=after, outcome=None)
        if not rows:
            return
        yield _csv_text([r[c] for c in CSV_COLUMNS] for r in rows)
        after = rows[-1]["row_number"]


def _csv_text(records) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(records)
    return buffer.getvalue()


def _row_cursor(cursor: str | None) -> int | None:
    after = decode_cursor(cursor, (integer,))
    return after[0] if after else None


def _imports_cursor(cursor: str | None) -> tuple | None:
    after = decode_cursor(cursor, (timestamp, text))
    return tuple(after) if after else None
