"""The HTTP service for CRM tickets: the labels of `cxtext label`, one request at a time.

`create_app(model)` builds the FastAPI app; `serve()` runs it with uvicorn. Concurrent requests are
classified together in shared `model.predict` calls (a call has a fixed cost of a few ms, so one text
per call is ~10x dearer than a share of a batch); POST /v1/classify skips FastAPI's per-request
machinery (see _JsonRoute). Texts are never logged: log lines carry counts, statuses and masked ids.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, Optional, Sequence, Union

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from .batch import predict_columns
from .errors import InputError

__all__ = ["create_app", "serve", "ClassifyRequest", "ClassifyResponse"]

log = logging.getLogger("cxtext.service")

MAX_ITEMS = 1000
MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_TEXT_CHARS = 20_000
MAX_EXPLAIN_ITEMS = 100  # an explanation costs about one prediction per distinct word of each text
MAX_EXPLAIN_CHARS = 100_000  # text per /v1/explain request: ~15 s and a few hundred MB at worst
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

    @model_validator(mode="before")
    @classmethod
    def _text_under_another_name(cls, data: Any) -> Any:
        """An item without `text` or `turns` is an empty ticket, unless it has fields of its own: then the
        text was most likely sent under another name ("txt", "comment"), and every item would read as empty."""
        if isinstance(data, dict) and "text" not in data and "turns" not in data:
            other = sorted(set(data) - set(cls.model_fields))
            if other:
                raise ValueError(f"no field 'text' or 'turns', but {', '.join(map(repr, other[:5]))}: send the "
                                 "ticket's text as 'text' (or a transcript as 'turns')")
        return data


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
    status: str = Field(description="ok, truncated, no customer turn, empty text, not text, ...")


class ClassifyResponse(BaseModel):
    items: list[Labels]


class ExplainRequest(BaseModel):
    items: list[Item] = Field(min_length=1, max_length=MAX_EXPLAIN_ITEMS)


class Word(BaseModel):
    word: str
    weight: float = Field(description="how much the label's log-odds fall without this word")


class Explained(Labels):
    """An item's labels and the words behind its group and each of its topics (`cxtext.explain`)."""

    group_words: list[Word]
    topic_words: dict[str, list[Word]] = Field(description="topic id -> its words; [] when no single word "
                                                           "carries the topic")


class ExplainResponse(BaseModel):
    items: list[Explained]


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
        await JSONResponse(_too_large(self.limit), status_code=413)({"type": "http"}, None, send)


class _TooLarge(Exception):
    pass


def _field(loc) -> str:
    parts = [str(p) for p in loc if p != "body"]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "body"


async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    return JSONResponse(_problems(exc.errors()), status_code=422)


async def _http_error(request: Request, exc: StarletteHTTPException):
    if exc.status_code == 400 and request.url.path in ("/v1/classify", "/v1/explain"):
        # FastAPI answers 400 when the body is not JSON at all (invalid UTF-8, nested too deeply)
        return JSONResponse(_NOT_JSON, status_code=422)
    return await http_exception_handler(request, exc)


def _value(item: Item, limit: int) -> tuple[Any, bool]:
    """What the model reads for an item (text or list of turns), cut to `limit` characters."""
    if item.turns:  # an empty list of turns is a ticket without text, as a missing one is
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


def _labels(model, items: Sequence[Item], columns: dict, start: int, cut: Sequence[bool]) -> list[dict]:
    """The response rows of one request: its rows `start:start + len(items)` of a (possibly shared) predict
    call, given as plain column lists (converted from the DataFrame once per model call, not per request)."""
    n = len(items)
    is_repeat = columns["is_repeat"][start:start + n]
    topic_lists = [t.split(";") if t else [] for t in columns["topics"][start:start + n]]
    customers = [None if i.customer_id is None else str(i.customer_id) for i in items]
    if any(c is not None for c in customers):
        # repeats within this request only, the rule model.predict applies with a fresh history
        from_history = model.new_history().mark(customers, [i.created_at for i in items], topic_lists)
        is_repeat = [bool(a) or b for a, b in zip(is_repeat, from_history)]
    taxonomy = getattr(model, "taxonomy_", None) or model.taxonomy
    group, group_name = columns["group"], columns["group_name"]
    is_general, confidence = columns["is_general"], columns["confidence"]
    needs_review, status = columns["needs_review"], columns["status"]
    out = []
    for k, item in enumerate(items):
        row = start + k
        state = status[row]
        if cut[k] and state == "ok":
            state = "truncated"
        topics = topic_lists[k]
        out.append({
            "id": None if item.id is None else str(item.id),
            "group": group[row], "group_name": group_name[row],
            "topics": topics, "topic_names": [taxonomy.topic_name(t) for t in topics],
            "is_general": bool(is_general[row]), "is_repeat": bool(is_repeat[k]),
            "confidence": float(confidence[row]), "needs_review": bool(needs_review[row]),
            "status": state,
        })
    return out


def classify_items(model, items: list[Item], max_text_chars: int = MAX_TEXT_CHARS) -> list[dict]:
    """Labels for the items of one request, in order, from a single model.predict call."""
    return _classified(model, items, max_text_chars)[0]


def _classified(model, items: Sequence[Item], max_text_chars: int) -> tuple[list[dict], list, dict]:
    """(the response rows, what the model read of each item, the label columns they came from)."""
    values, cut = zip(*(_value(item, max_text_chars) for item in items))
    columns = predict_columns(model, list(values))
    return _labels(model, items, columns, 0, cut), list(values), columns


class _Job:
    """One request's texts in the batcher, with the label columns gathered so far."""

    __slots__ = ("values", "future", "taken", "parts")

    def __init__(self, values: list, future: asyncio.Future):
        self.values = values
        self.future = future
        self.taken = 0  # texts handed to the model so far
        self.parts: list = []  # (columns, start, stop) of each model call that had some of them


class _Batcher:
    """Joins concurrent requests into shared model.predict calls.

    Per call, model.predict has a fixed cost of a few ms (one text: ~3 ms; 100 texts: ~30 ms), so single
    tickets that arrive together are classified together. Flush policy: when the model is idle a request
    is classified at once (no timer, no waiting for company); while a call runs, new requests queue and
    all of them go into the next call. A call takes at most `max_items` texts (a 1,000-item request is
    split over several calls, with the event loop free in between), chosen by `_next_call`, so a single
    ticket that arrives behind a large request waits for one call, not for the whole request.

    `in_thread=True` (the default) runs predict in one thread, so the event loop reads, checks and answers
    requests while a call runs (numpy, scipy and socket I/O release the GIL); `in_thread=False` runs it
    in the loop, which then yields between calls. On this 2-core machine, shared with other work, the
    two measured within noise of each other (the thread had the lower median at 500 req/s).
    """

    def __init__(self, model, max_items: int = 256, in_thread: bool = True):
        self.model = model
        self.max_items = max(1, int(max_items))
        self.waiting: list[_Job] = []
        self.running = False
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="cxtext-predict") if in_thread else None

    async def predict(self, values: list) -> list:
        """[(columns, start, stop), ...]: where this request's labels are, in order, across model calls."""
        loop = asyncio.get_running_loop()
        job = _Job(values, loop.create_future())
        self.waiting.append(job)
        if not self.running:
            self.running = True
            loop.create_task(self._drain())
        return await job.future

    def _next_call(self) -> list[tuple[_Job, int, int]]:
        """(job, start, stop) slices for one model call, in arrival order.

        The oldest request always gets up to a quarter of the call (so none waits forever); the rest
        goes to the requests with the fewest texts left, oldest first among equals (shortest remaining
        first: the least mean wait, and FIFO for requests of one size)."""
        self.waiting = [j for j in self.waiting if not j.future.done()]  # a client that went away
        budget, slices = self.max_items, {}

        def take(job: _Job, n: int) -> None:
            nonlocal budget
            n = min(n, budget, len(job.values) - job.taken)
            if n > 0:
                slices.setdefault(id(job), [job, job.taken, job.taken])[2] += n
                job.taken += n
                budget -= n

        if self.waiting:
            take(self.waiting[0], max(1, self.max_items // 4))
            for job in sorted(self.waiting, key=lambda j: len(j.values) - j.taken):
                if budget <= 0:
                    break
                take(job, budget)
        return [tuple(slices[id(j)]) for j in self.waiting if id(j) in slices]

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.waiting:
                plan = self._next_call()
                if not plan:
                    break
                texts = [v for job, a, b in plan for v in job.values[a:b]]
                try:
                    if self.executor is None:
                        columns = predict_columns(self.model, texts)
                    else:
                        columns = await loop.run_in_executor(self.executor, predict_columns, self.model, texts)
                except Exception as exc:  # noqa: BLE001 - handed to each request in this call
                    for job, _, _ in plan:
                        if not job.future.done():
                            job.future.set_exception(exc)
                    self.waiting = [j for j in self.waiting if not j.future.done()]
                    continue
                offset = 0
                for job, a, b in plan:
                    job.parts.append((columns, offset, offset + b - a))
                    offset += b - a
                    if job.taken == len(job.values) and not job.future.done():
                        job.future.set_result(job.parts)
                self.waiting = [j for j in self.waiting if j.taken < len(j.values) and not j.future.done()]
                if self.executor is None:
                    # let the requests that arrived during the call be read and queued before the next one
                    await asyncio.sleep(0)
        finally:
            self.running = False


class _State:
    """The model of this process: ready once loaded (a background thread loads it at start-up)."""

    def __init__(self, model, batch_items: int = 256, predict_in_thread: bool = True):
        self.model = None if model is None or isinstance(model, (str, os.PathLike)) else model
        self.path = model if self.model is None else None
        self.error: Optional[str] = None
        self.ready = threading.Event()
        self.batch_items = batch_items
        self.predict_in_thread = predict_in_thread
        self._batcher: Optional[_Batcher] = None
        if self.model is not None:
            self.ready.set()

    def batcher(self) -> _Batcher:
        if self._batcher is None:
            self._batcher = _Batcher(self.model, self.batch_items, self.predict_in_thread)
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

    def not_ready(self) -> tuple[int, dict]:
        message = f"model failed to load: {self.error}" if self.error else "model is loading; retry shortly"
        return 503, {"message": message}


def _gather(parts: list) -> tuple[dict, int]:
    """One request's label columns and their start, from the model call(s) that had its texts."""
    if len(parts) == 1:
        columns, start, _ = parts[0]
        return columns, start
    return {c: [v for columns, a, b in parts for v in columns[c][a:b]] for c in parts[0][0]}, 0


async def _classify(state: _State, items: Sequence[Item], max_text_chars: int) -> list[dict]:
    """The labels of one validated request (shared by the fast path and the FastAPI route)."""
    started = time.perf_counter()
    values, cut = zip(*(_value(item, max_text_chars) for item in items))
    columns, start = _gather(await state.batcher().predict(list(values)))
    labels = _labels(state.model, items, columns, start, cut)
    if log.isEnabledFor(logging.INFO):
        statuses = Counter(row["status"] for row in labels)
        log.info("classified %d items in %.1f ms: %s", len(labels),
                 1000 * (time.perf_counter() - started), dict(statuses))
    if log.isEnabledFor(logging.DEBUG):
        for row in labels:
            log.debug("item id=%s status=%s group=%s", _masked(row["id"]), row["status"], row["group"])
    return labels


def explain_items(model, items: Sequence[Item], max_text_chars: int = MAX_TEXT_CHARS) -> list[dict]:
    """Labels for the items of one request, as /v1/classify gives them, with the words behind them."""
    from .attribution import explain

    rows, values, columns = _classified(model, items, max_text_chars)
    pairs = lambda words: [{"word": w, "weight": x} for w, x in words]  # noqa: E731
    for row, why in zip(rows, explain(model, values, labels=columns)):
        row["group_words"] = pairs(why["group_words"])
        row["topic_words"] = {topic: pairs(words) for topic, words in why["topics"].items()}
    return rows


def _dumps(content) -> bytes:
    # what starlette's JSONResponse renders, without building a Response per request
    text = json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate ("\ud800" sent in an id) has no UTF-8: send it escaped
        return json.dumps(content, allow_nan=False, indent=None, separators=(",", ":")).encode()


def _problems(errors) -> dict:
    # no "input" echo: it may hold personal data or megabytes of text
    errors = [{"field": _field(e.get("loc", ())), "message": str(e.get("msg", "")), "type": e.get("type")}
              for e in errors]
    shown = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return {"message": f"invalid request: {shown}", "detail": errors}


_NOT_AN_OBJECT = [{"loc": ("body",), "msg": "Input should be a valid dictionary or object to extract fields from",
                   "type": "model_attributes_type"}]
_NOT_DECLARED_JSON = [{"loc": ("body",), "type": "model_attributes_type",
                        "msg": "the body is not declared as JSON; send it with the header Content-Type: application/json"}]
_NOT_JSON = {"message": "the body is not valid JSON in UTF-8 (or is nested too deeply); "
                        "send {\"items\": [{\"id\": ..., \"text\": ...}]}"}


def _is_json(content_type: Optional[bytes]) -> bool:
    if not content_type:
        return False
    kind = content_type.split(b";", 1)[0].strip().lower()
    return kind == b"application/json" or (kind.startswith(b"application/") and kind.endswith(b"+json"))


# what a route answers: status, JSON content, extra headers
_Answer = tuple[int, Any, dict]


class _JsonRoute:
    """A POST route (/v1/classify, /v1/explain) as a bare ASGI app: the same checks and answers as its
    FastAPI route, without FastAPI's per-request middleware, routing, dependency and response machinery
    (with it, ~40% of the server's CPU for a single ticket went there). Every other path, and the
    OpenAPI schema, is FastAPI's.

    Body over the limit: 413 (by Content-Length, or counted while streaming). Not JSON, or JSON that
    is not a `schema`: 422 naming the field. Model not loaded: 503. Else `answer(request)`; an
    unexpected error: 500 with a generic message, and the worker goes on."""

    def __init__(self, state: _State, limit: int, schema: type[BaseModel], answer):
        self.state = state
        self.limit = limit
        self.schema = schema
        self.answer = answer

    async def __call__(self, scope, receive, send):
        status, content, extra = await self._answer(scope, receive)
        body = _dumps(content)
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   *((name.lower().encode(), value.encode()) for name, value in extra.items())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _answer(self, scope, receive) -> _Answer:
        status, content = await self._read(scope, receive)
        if status:
            return status, content, {}
        if not self.state.ready.is_set():
            return (*self.state.not_ready(), {"Retry-After": "1"})
        try:
            return await self.answer(content)
        except Exception as exc:  # noqa: BLE001 - the worker goes on
            # the type only: a message or traceback could carry a text
            log.error("%s failed for a request of %d items: %s", scope["path"], len(content.items),
                      type(exc).__name__)
            return 500, {"message": "internal error; the request can be retried"}, {}

    async def _read(self, scope, receive) -> tuple[int, Any]:
        """(0, the validated request), or (an error status, its answer)."""
        content_type = length = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value
            elif name == b"content-length":
                length = value
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return 413, _too_large(self.limit)
        chunks, seen, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return 400, {"message": "the client went away"}  # never reaches the client
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.limit:
                return 413, _too_large(self.limit)
            chunks.append(chunk)
            more = message.get("more_body", False)
        raw = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if not raw:
            return 422, _problems([{"loc": ("body",), "msg": "Field required", "type": "missing"}])
        if not _is_json(content_type):
            return 422, _problems(_NOT_DECLARED_JSON)
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            return 422, _problems([{"loc": ("body",), "msg": f"JSON decode error: {exc.msg} at position {exc.pos}",
                                    "type": "json_invalid"}])
        except (ValueError, RecursionError):  # not UTF-8, or nested too deeply for the parser
            return 422, _NOT_JSON
        if not isinstance(data, dict):
            return 422, _problems(_NOT_AN_OBJECT)
        try:
            return 0, self.schema.model_validate(data)
        except ValidationError as exc:
            return 422, _problems(exc.errors(include_input=False))


def _too_large(limit: int) -> dict:
    return {"message": f"request body is over {limit} bytes; send at most {MAX_ITEMS} items per request and "
                       f"split large batches"}


class _App(FastAPI):
    """FastAPI, with POST /v1/classify and /v1/explain answered by `fast_paths` before FastAPI's own
    per-request work (telemetry checks, middleware stack, routing, dependencies): ~25% of a single
    ticket's CPU."""

    fast_paths: dict[str, _JsonRoute] = {}

    async def __call__(self, scope, receive, send):
        route = self.fast_paths.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if route is not None:
            return await route(scope, receive, send)
        return await super().__call__(scope, receive, send)


def create_app(model=None, *, max_body_bytes: int = MAX_BODY_BYTES, max_text_chars: int = MAX_TEXT_CHARS,
               batch_items: int = 256, predict_in_thread: bool = True) -> FastAPI:
    """The FastAPI app. `model`: a loaded model (ready at once), a model directory or None (the default
    model, loaded in the background at start-up; /health answers 503 until it is ready).

    `batch_items`: at most this many texts per model call (requests are merged, or split, to fit; past
    ~100 texts a bigger call is no cheaper per text, and 256 texts keep a call under ~100 ms);
    `predict_in_thread`: run the model in a thread (default) or in the event loop (see _Batcher)."""
    state = _State(model, batch_items, predict_in_thread)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if not state.ready.is_set():
            threading.Thread(target=state.load, name="cxtext-model-load", daemon=True).start()
        yield

    app = _App(title="cxtext", version=_version(), lifespan=lifespan,
               description="Contact group, topics, repeat and confidence for Russian customer feedback.",
               responses={413: {"model": Problem}, 422: {"model": Problem}, 503: {"model": Problem}})
    app.state.cxtext = state
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(_BodyLimit, limit=max_body_bytes)

    def not_ready() -> JSONResponse:
        status, content = state.not_ready()
        return JSONResponse(content, status_code=status, headers={"Retry-After": "1"})

    async def classify_answer(request: ClassifyRequest) -> _Answer:
        return 200, {"items": await _classify(state, request.items, max_text_chars)}, {}

    explaining = asyncio.Lock()

    async def explain_answer(request: ExplainRequest) -> _Answer:
        size = sum(len(i.text or "") + sum(len(t.text or "") for t in i.turns or ()) for i in request.items)
        if size > MAX_EXPLAIN_CHARS:
            return 422, {"message": f"the items hold {size:,} characters of text; /v1/explain takes at most "
                                    f"{MAX_EXPLAIN_CHARS:,} per request (it costs about one prediction per word): "
                                    "send fewer or shorter items"}, {}
        if explaining.locked():  # one at a time per worker: a second would only slow both and the stream
            return 429, {"message": "another explanation is being computed; retry in a few seconds"}, {"Retry-After": "5"}
        async with explaining:
            started = time.perf_counter()
            rows = await asyncio.to_thread(explain_items, state.model, request.items, max_text_chars)
        log.info("explained %d items in %.1f ms", len(rows), 1000 * (time.perf_counter() - started))
        return 200, {"items": rows}, {}

    app.fast_paths = {"/v1/classify": _JsonRoute(state, max_body_bytes, ClassifyRequest, classify_answer),
                      "/v1/explain": _JsonRoute(state, max_body_bytes, ExplainRequest, explain_answer)}

    async def respond(answer, request) -> JSONResponse:
        if not state.ready.is_set():
            return not_ready()
        status, content, headers = await answer(request)
        return JSONResponse(content, status_code=status, headers=headers)  # already validated: no second pass

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

    # The two POST routes declare the API for OpenAPI; served requests are answered by `fast_paths`, in
    # the same way (these run only when fast_paths is emptied, as a test does).
    @app.post("/v1/classify", response_model=ClassifyResponse)
    async def classify(request: ClassifyRequest):
        return await respond(classify_answer, request)

    @app.post("/v1/explain", response_model=ExplainResponse,
              responses={429: {"model": Problem, "description": "another explanation is being computed"}})
    async def explain(request: ExplainRequest):
        """The labels of up to 100 items and the words behind each label: for a person reading a ticket, not
        for the stream (each text costs about one prediction per distinct word)."""
        return await respond(explain_answer, request)

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
          max_body_bytes: int = MAX_BODY_BYTES, access_log: bool = False, log_level: str = "info") -> None:
    """Run the service with uvicorn (uvloop and httptools, from uvicorn[standard]); each worker process
    loads the model once at start-up. The access log is off by default: it costs ~10% of a single-ticket
    request and says nothing the cxtext log lines do not."""
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
                access_log=access_log, log_level=log_level, log_config=config, loop=_loop(), http=_http())


def _loop() -> str:
    try:
        import uvloop  # noqa: F401

        return "uvloop"
    except ImportError:
        return "asyncio"


def _http() -> str:
    try:
        import httptools  # noqa: F401

        return "httptools"
    except ImportError:
        return "h11"
