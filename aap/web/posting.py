"""What a page receives: the posted form as pairs, a file streamed in from a multipart form.

The porteur's dossier and the bilan take their pièces the same way: check that the caller may add one
(before a byte is read), stream the file, check the CSRF token, record it, then back to the page with
a message; a refusal the person can mend is said on the page, one they cannot (403, 404) is raised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from aap.attachments import files
from aap.errors import AppError
from aap.models import Attachment
from aap.settings import Settings
from aap.web.csrf import check_csrf
from aap.web.rendering import flash


async def posted(request: Request) -> list[tuple[str, Any]]:
    """The posted form as (name, value) pairs, read before the (sync) route runs in its thread."""
    form = await request.form()
    return list(form.multi_items())


Posted = Annotated[list[tuple[str, Any]], Depends(posted)]


async def upload_then_back(
    request: Request,
    db: Session,
    settings: Settings,
    back: Response,
    *,
    check: Callable[[], None],
    attach: Callable[[files.Received], Attachment],
    refused: str,
    done: str,
    raised: tuple[int, ...] = (403,),
) -> Response:
    """Receive one file into `attach`; `refused` begins the message of a refusal (« … : reason »),
    `done` is the message of a success (`{filename}`: the file's name); statuses in `raised` are raised."""
    await run_in_threadpool(check)
    try:
        received = await files.receive_upload(request, settings.max_upload_bytes, settings.data_dir)
    except AppError as exc:
        flash(request, f"{refused} : {exc.message}", "error")
        return back
    try:
        check_csrf(request, received.fields.get("csrf"))
        attachment = await run_in_threadpool(attach, received)
    except AppError as exc:
        await run_in_threadpool(db.rollback)
        if exc.status_code in raised:
            raise
        flash(request, f"{refused} : {exc.message}", "error")
        return back
    finally:
        received.discard()
    flash(request, done.format(filename=attachment.filename))
    return back
