"""The HTTP service for CRM tickets: the labels of `cxtext label`, one request at a time.

`create_app(model)` builds the FastAPI app; `serve()` runs it with uvicorn. All items of a request are
classified in one `model.predict` call (batched sklearn is ~40x faster than one text per call). Texts are
never logged: log lines carry counts, statuses and masked ids.
"""
from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, Optional, Sequence, Union

import pandas as pd

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from .batch import apply_history, predict_texts
from .errors import InputError

__all__ = ["create_app", "serve", "ClassifyRequest", "ClassifyResponse"]

log = logging.getLogger("cxtext.service")

MAX_ITEMS = 1000
MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_TEXT_CHARS = 20_000
MODEL_ENV = "CXTEXT_MODEL"  # the model directory for workers started from an import string
BODY_ENV = "CXTEXT_MAX_BODY_BYTES"


# ---- the API schema (what CRM integrators generate clients from) ----------------------------
class Turn(BaseModel):
    """One speaker turn of a call or chat transcript."""

    model_config = ConfigDict(extra="ignore")
    speaker: str = Field(max_length=100, examples=["client"], description="e.g. client, operator, bot")
    text: Optional[str] = Field(None, examples=["Здравствуйте, не приходит смс с кодом"])


class Item(BaseModel):
    """One ticket, comment or transcript: give `text`, or `turns` for a transcript with speakers."""

    model_config = ConfigDict(extra="ignore")
    id: Optional[Union[str, int]] = Field(None, description="your id, returned as a string")
    text: Optional[str] = Field(None, examples=["Списали комиссию за смс, которую я не подключал"])
    turns: Optional[list[Turn]] = Field(None, max_length=5000, description="transcript; used instead of text")
    customer_id: Optional[Union[str, int]] = Field(None, description="with created_at, finds repeats in the request")
    created_at: Optional[str] = Field(None, examples=["2024-05-01T12:30:00+03:00"], description="ISO 8601")


class ClassifyRequest(BaseModel):
    items: list[Item] = Field(min_length=1, max_length=MAX_ITEMS)


class Labels(BaseModel):
    """The labels of one item: the same fields as the output of `cxtext label`."""

    id: Optional[str]
    group: str = Field(description="contact group id; empty when the item could not be classified")
    group_name: str
    topics: list[str]
    topic_names: list[str]
    is_general: bool
    is_repeat: bool
    confidence: float
    needs_review: bool
    status: str = Field(description="ok, truncated, empty text, not text, ...")


class ClassifyResponse(BaseModel):
    items: list[Labels]


class Problem(BaseModel):
    message: str
    detail: Any = None


# ---- request handling ---------------------------------------------------------------------
class _BodyLimit:
    """413 for a body over `limit` bytes: by Content-Length, and by counting a streamed body without it."""

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await self._refuse(send)
        seen = 0
        too_large = started = False

        async def counted_receive():
            nonlocal seen, too_large
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    too_large = True
                    raise _TooLarge()
            return message

        async def guarded_send(message):
            nonlocal started
            if too_large:  # the app turned the failed read into its own error: answer 413 instead
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await self._refuse(send)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send) -> None:
        response = JSONResponse({"message": f"request body is over {self.limit} bytes; send at most "
                                            f"{MAX_ITEMS} items per request and split large batches"},
                                status_code=413)
        await response({"type": "http"}, None, send)


class _TooLarge(Exception):
    pass


def _field(loc) -> str:
    parts = [str(p) for p in loc if p != "body"]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "body"


async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    # no "input" echo: it may hold personal data or megabytes of text
    errors = [{"field": _field(e.get("loc", ())), "message": str(e.get("msg", "")), "type": e.get("type")}
              for e in exc.errors()]
    shown = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return JSONResponse({"message": f"invalid request: {shown}", "detail": errors}, status_code=422)


async def _http_error(request: Request, exc: StarletteHTTPException):
    if exc.status_code == 400 and request.url.path == "/v1/classify":
        # FastAPI answers 400 when the body is not JSON at all (invalid UTF-8, nested too deeply)
        return JSONResponse({"message": "the body is not valid JSON in UTF-8 (or is nested too deeply); "
                                    "send {\"items\": [{\"id\": ..., \"text\": ...}]}"}, status_code=422)
    return await http_exception_handler(request, exc)


def _value(item: Item, limit: int) -> tuple[Any, bool]:
    """What the model reads for an item (text or list of turns), cut to `limit` characters."""
    if item.turns is not None:
        turns, left, cut = [], limit, False
        for turn in item.turns:
            text = turn.text or ""
            if len(text) > left:
                text, cut = text[:left], True
            turns.append({"speaker": turn.speaker, "text": text})
            left -= len(text)
            if left <= 0:
                cut = cut or len(turns) < len(item.turns)
                break
        return turns, cut
    if item.text is not None and len(item.text) > limit:
        return item.text[:limit], True
    return item.text, False


def _masked(value) -> Optional[str]:
    if value is None:
        return None
    from .mask import mask_text

    return mask_text(str(value))


def _labels(model, items: list[Item], labels: pd.DataFrame, cut: Sequence[bool]) -> list[dict]:
    """The response rows of one request from its rows of a (possibly shared) predict call."""
    labels = labels.reset_index(drop=True)
    customers = [None if i.customer_id is None else str(i.customer_id) for i in items]
    if any(c is not None for c in customers):
        # repeats within this request only, the rule model.predict applies with a fresh history
        apply_history(labels, model.new_history(), customers, [i.created_at for i in items])
    columns = {c: labels[c].tolist() for c in labels.columns}
    taxonomy = getattr(model, "taxonomy_", None) or model.taxonomy
    out = []
    for k, item in enumerate(items):
        status = columns["status"][k]
        if cut[k] and status == "ok":
            status = "truncated"
        topics = columns["topics"][k].split(";") if columns["topics"][k] else []
        out.append({
            "id": None if item.id is None else str(item.id),
            "group": columns["group"][k], "group_name": columns["group_name"][k],
            "topics": topics, "topic_names": [taxonomy.topic_name(t) for t in topics],
            "is_general": bool(columns["is_general"][k]), "is_repeat": bool(columns["is_repeat"][k]),
            "confidence": float(columns["confidence"][k]), "needs_review": bool(columns["needs_review"][k]),
            "status": status,
        })
    return out


def classify_items(model, items: list[Item], max_text_chars: int = MAX_TEXT_CHARS) -> list[dict]:
    """Labels for the items of one request, in order, from a single model.predict call."""
    values, cut = zip(*(_value(item, max_text_chars) for item in items))
    return _labels(model, items, predict_texts(model, list(values)), cut)


class _Batcher:
    """Joins the requests that arrive while the model is busy into one model.predict call.

    One predict per text costs ~40x more than a share of a batched call, so under load single-ticket
    requests are classified together; with no load a request is classified alone at once. Predict
    runs in one thread, so the event loop keeps accepting requests meanwhile.
    """

    def __init__(self, model, max_items: int = 2 * MAX_ITEMS):
        self.model = model
        self.max_items = max_items
        self.waiting: list = []
        self.running = False
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="cxtext-predict")

    async def predict(self, values: list) -> pd.DataFrame:
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((values, future))
        if not self.running:
            self.running = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.waiting:
                batch, size = [], 0
                while self.waiting and (not batch or size + len(self.waiting[0][0]) <= self.max_items):
                    values, future = self.waiting.pop(0)
                    batch.append((values, future))
                    size += len(values)
                texts = [v for values, _ in batch for v in values]
                try:
                    labels = await loop.run_in_executor(self.executor, predict_texts, self.model, texts)
                except Exception as exc:  # noqa: BLE001 - handed to each waiting request
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                start = 0
                for values, future in batch:
                    if not future.done():
                        future.set_result(labels.iloc[start:start + len(values)])
                    start += len(values)
        finally:
            self.running = False


class _State:
    """The model of this process: ready once loaded (a background thread loads it at start-up)."""

    def __init__(self, model):
        self.model = None if model is None or isinstance(model, (str, os.PathLike)) else model
        self.path = model if self.model is None else None
        self.error: Optional[str] = None
        self.ready = threading.Event()
        self._batcher: Optional[_Batcher] = None
        if self.model is not None:
            self.ready.set()

    def batcher(self) -> _Batcher:
        if self._batcher is None:
            self._batcher = _Batcher(self.model)
        return self._batcher

    def load(self) -> None:
        from .classify import load_model

        try:
            started = time.perf_counter()
            self.model = load_model(self.path)
            self.model.predict(["прогрев"])  # first call builds the analyzer and caches
            log.info("model loaded in %.1f s", time.perf_counter() - started)
            self.ready.set()
        except Exception as exc:  # noqa: BLE001 - reported by /health
            self.error = f"{type(exc).__name__}: {exc}"
            log.error("model could not be loaded: %s", self.error)


def create_app(model=None, *, max_body_bytes: int = MAX_BODY_BYTES, max_text_chars: int = MAX_TEXT_CHARS
               ) -> FastAPI:
    """The FastAPI app. `model`: a loaded model (ready at once), a model directory or None (the default
    model, loaded in the background at start-up; /health answers 503 until it is ready)."""
    state = _State(model)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if not state.ready.is_set():
            threading.Thread(target=state.load, name="cxtext-model-load", daemon=True).start()
        yield

    app = FastAPI(title="cxtext", version=_version(), lifespan=lifespan,
                  description="Contact group, topics, repeat and confidence for Russian customer feedback.",
                  responses={413: {"model": Problem}, 422: {"model": Problem}, 503: {"model": Problem}})
    app.state.cxtext = state
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(_BodyLimit, limit=max_body_bytes)

    def not_ready() -> JSONResponse:
        message = f"model failed to load: {state.error}" if state.error else "model is loading; retry shortly"
        return JSONResponse({"message": message}, status_code=503, headers={"Retry-After": "1"})

    @app.get("/health")
    async def health():
        if not state.ready.is_set():
            return not_ready()
        return {"status": "ok"}

    @app.get("/v1/taxonomy")
    async def taxonomy():
        if not state.ready.is_set():
            return not_ready()
        return (getattr(state.model, "taxonomy_", None) or state.model.taxonomy).to_dict()

    @app.get("/v1/model")
    async def model_card():
        if not state.ready.is_set():
            return not_ready()
        return getattr(state.model, "card", {}) or {}

    @app.post("/v1/classify", response_model=ClassifyResponse)
    async def classify(request: ClassifyRequest):
        if not state.ready.is_set():
            return not_ready()
        started = time.perf_counter()
        values, cut = zip(*(_value(item, max_text_chars) for item in request.items))
        predicted = await state.batcher().predict(list(values))
        labels = _labels(state.model, request.items, predicted, cut)
        if log.isEnabledFor(logging.INFO):
            statuses = Counter(row["status"] for row in labels)
            log.info("classified %d items in %.1f ms: %s", len(labels),
                     1000 * (time.perf_counter() - started), dict(statuses))
        if log.isEnabledFor(logging.DEBUG):
            for row in labels:
                log.debug("item id=%s status=%s group=%s", _masked(row["id"]), row["status"], row["group"])
        # built by hand: already validated, so skip FastAPI's second pass over the response
        return JSONResponse({"items": labels})

    return app


def _version() -> str:
    from . import __version__

    return __version__


def app_from_env() -> FastAPI:
    """The app for `uvicorn --factory cxtext.service:app_from_env` and for each of serve()'s workers."""
    limit = os.environ.get(BODY_ENV)
    return create_app(os.environ.get(MODEL_ENV) or None,
                      max_body_bytes=int(limit) if limit else MAX_BODY_BYTES)


def serve(model_path=None, host: str = "127.0.0.1", port: int = 8000, workers: int = 1, *,
          max_body_bytes: int = MAX_BODY_BYTES, access_log: bool = True, log_level: str = "info") -> None:
    """Run the service with uvicorn; each worker process loads the model once at start-up."""
    import uvicorn

    if int(workers) < 1:
        raise InputError(f"workers must be at least 1, got {workers}")
    if model_path is not None:
        from .classify import load_model

        load_model(model_path)  # fail here, with the reason, rather than in every worker
        os.environ[MODEL_ENV] = str(os.path.abspath(model_path))
    os.environ[BODY_ENV] = str(int(max_body_bytes))
    config = dict(uvicorn.config.LOGGING_CONFIG)
    config["loggers"] = {**config["loggers"],
                         "cxtext": {"handlers": ["default"], "level": log_level.upper(), "propagate": False}}
    uvicorn.run("cxtext.service:app_from_env", factory=True, host=host, port=int(port), workers=int(workers),
                access_log=access_log, log_level=log_level, log_config=config)
