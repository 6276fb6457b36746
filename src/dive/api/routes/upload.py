"""`POST /api/resources` (identity-api-ui §B.5.6; CONSISTENCY #34): size, type, label, upload rule, then the ZTDF."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime

import anyio
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse

from dive.api.auth import Principal
from dive.api.documents import NewDocument, encrypt_document, store_document
from dive.api.errors import ForbiddenError, InvalidRequestError, UnavailableError, ValidationFailedError
from dive.api.routes.common import request_id, requested_by, runtime
from dive.api.runtime import ApiRuntime
from dive.api.upload_form import UploadForm, form_errors, label_errors, sniff_file_type
from dive.domain.clearance import primary_term
from dive.types import LEVELS
from dive.ztdf import Label, ZtdfError

__all__ = ["upload_document"]


async def upload_document(request: Request) -> JSONResponse:
    api = runtime(request)
    principal = await api.auth.authenticate(request)
    form_data = await _form(request)
    upload = form_data.get("file")
    if not isinstance(upload, UploadFile):
        raise ValidationFailedError([{"field": "file", "code": "file_missing", "message": "Attach a file."}])
    content = await upload.read()
    form = _read_form(form_data, upload.filename or "")
    errors = form_errors(form)
    file_type, mime_type = sniff_file_type(form.filename, content)
    now = datetime.now(UTC)
    label = _label(form, api.settings.instance_code, now)
    if not errors:
        check = await api.pep.check_label(label)
        errors = label_errors(check.codes, check.violations)
    if errors:
        raise ValidationFailedError(errors)
    await _decide_upload(api, request, principal, label, now)
    document = NewDocument(
        resource_id=f"doc-{api.settings.instance_code}-upload-{int(time.time() * 1000)}-{secrets.token_hex(4)}",
        instance=api.settings.instance_code,
        title=form.title.strip(),
        summary=form.summary,
        label=label,
        ztdf_label=_ztdf_label(form, api.settings.instance_code, label),
        file_type=file_type,
        mime_type=mime_type,
        created_by=str(principal.claims.get("uniqueID") or principal.claims.get("sub")),
    )
    resource = await anyio.to_thread.run_sync(_write, api, document, content)
    headers = {"Location": f"/api/resources/{document.resource_id}"}
    body = {
        "resourceId": document.resource_id,
        "instance": api.settings.instance_code,
        "displayMarking": resource[0],
        "kaoCount": resource[1],
    }
    return JSONResponse(body, status_code=201, headers=headers)


async def _form(request: Request) -> FormData:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "multipart/form-data":
        raise InvalidRequestError("uploads are multipart/form-data with a file field")
    try:
        return await request.form(max_files=1, max_fields=64)
    except (ValueError, KeyError) as exc:  # python-multipart's parse errors surface as these
        raise InvalidRequestError("the multipart body is malformed") from exc


def _read_form(data: FormData, filename: str) -> UploadForm:
    def text(name: str) -> str | None:
        value = data.get(name)
        return value if isinstance(value, str) else None

    def many(name: str) -> tuple[str, ...]:
        return tuple(v.strip() for v in data.getlist(name) if isinstance(v, str) and v.strip())

    return UploadForm(
        title=text("title") or "",
        summary=text("summary"),
        classification=(text("classification") or "").strip(),
        releasability=tuple(dict.fromkeys(code.upper() for code in many("releasabilityTo"))),
        cois=tuple(dict.fromkeys(many("coi"))),
        coi_operator=(text("coiOperator") or "ALL").strip().upper(),
        caveats=tuple(dict.fromkeys(caveat.upper() for caveat in many("caveats"))),
        industry=(text("releasableToIndustry") or "false").lower() in ("true", "1", "on"),
        filename=filename,
    )


def _label(form: UploadForm, instance: str, now: datetime) -> dict[str, object]:
    """abac §1.2 names; the national term is the uploading instance's primary term for the level (abac §6.2)."""
    label: dict[str, object] = {
        "classification": form.classification,
        "originalCountry": instance,
        "releasabilityTo": list(form.releasability),
        "COI": list(form.cois),
        "coiOperator": form.coi_operator,
        "caveats": list(form.caveats),
        "releasableToIndustry": form.industry,
        "creationDate": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if form.classification in LEVELS:
        label["originalClassification"] = primary_term(instance, form.classification)  # type: ignore[arg-type]
    return label


def _ztdf_label(form: UploadForm, instance: str, label: dict[str, object]) -> Label:
    return Label(
        classification=form.classification,  # type: ignore[arg-type]
        releasable_to=form.releasability,
        originator_country=instance,
        creation_date=str(label["creationDate"]),
        cois=form.cois,
        coi_operator="ANY" if form.coi_operator == "ANY" else "ALL",
        caveats=form.caveats,
        releasable_to_industry=form.industry,
        original_classification=label.get("originalClassification"),  # type: ignore[arg-type]
        original_country=instance,
    )


async def _decide_upload(
    api: ApiRuntime, request: Request, principal: Principal, label: dict[str, object], now: datetime
) -> None:
    resource = {**label, "resourceId": "upload", "encrypted": True, "originInstance": api.settings.instance_code}
    input = api.pep.input_from(principal, resource, "upload", now, request_id(request))
    outcome = await api.pep.decide(
        input,
        operation="upload",
        instance=api.settings.instance_code,
        requested_by=requested_by(request),
        request_id=request_id(request),
    )
    if not outcome.allow:
        raise ForbiddenError("access_denied", outcome.decision.reason, details={"decision": outcome.as_json()})


def _write(api: ApiRuntime, document: NewDocument, content: bytes) -> tuple[str | None, int]:
    targets = api.kas.targets_for(document.instance, list(document.ztdf_label.releasable_to))
    if not targets:
        raise UnavailableError(
            "kas_unavailable", f"{document.instance} has no approved KAS with an active key; the upload was not stored."
        )
    try:
        archive, manifest = encrypt_document(document, content, targets)
    except ZtdfError as exc:
        raise UnavailableError("kas_unavailable", f"the document could not be encrypted: {exc.message}") from exc
    with api.writer_sessions.begin() as session:
        stored = store_document(session, document, archive=archive, manifest=manifest, size_bytes=len(content))
        marking, kao_count = stored.display_marking, stored.kao_count
    api.searcher.data_changed()  # §B.5.1: the data version moves on every upload
    return marking, kao_count
