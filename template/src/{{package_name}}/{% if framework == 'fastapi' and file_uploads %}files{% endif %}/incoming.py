"""Receiving `POST /api/files`: the multipart body, streamed into a private temporary file.

The body is parsed as it arrives (files/multipart.py) and the file's bytes go
to disk as they come, from Starlette's body stream; writes run in the thread
pool. SecurityMiddleware caps the whole body too, at the file limit plus
MULTIPART_OVERHEAD_BYTES (routes.py).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request

from .multipart import Received, UploadParser, interrupted
from .storage import FileStorage


async def receive_upload(request: Request, storage: FileStorage, limit: int) -> Received:
    """Stream the request's file part into a new temporary file of `storage`."""
    parser = UploadParser(request.headers.get("content-type"), limit)
    sink, path = await run_in_threadpool(storage.new_incoming)
    try:
        try:
            async for chunk in request.stream():
                if data := parser.feed(chunk):
                    await run_in_threadpool(sink.write, data)
        except ClientDisconnect:
            raise interrupted() from None
        finally:
            sink.close()
        return parser.finish(path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
