"""The HTTP service: same labels as `cxtext label`, clear 4xx for bad requests, nothing crashes it."""
from __future__ import annotations

import json
import logging
import sys

import pandas as pd
import pytest

pytest.importorskip("fastapi", reason="the service extra is not installed: pip install 'cxtext[service]'")
from fastapi.testclient import TestClient  # noqa: E402

from cxtext import io  # noqa: E402
from cxtext.batch import label_file  # noqa: E402
from cxtext.classify import LABEL_COLUMNS, load_model  # noqa: E402
from cxtext.service import Item, classify_items, create_app  # noqa: E402

TICKETS = [
    {"id": "T-1", "text": "не могу дозвониться до колл-центра уже час"},
    {"id": "T-2", "text": "верните деньги за смс-информирование, я его не подключал"},
    {"id": 3, "text": "как поменять тариф на Премиум?"},
    {"id": "T-4", "text": ""},
    {"id": "T-5", "text": None},
    {"id": "T-6", "text": "Спасибо, всё быстро решили 👍"},
]


@pytest.fixture(scope="session")
def model():
    return load_model()  # the default model that ships with cxtext


@pytest.fixture(scope="module")
def client(model):
    with TestClient(create_app(model, max_body_bytes=200_000, max_text_chars=2_000)) as client:
        yield client


def _classify(client, items):
    return client.post("/v1/classify", json={"items": items})


def test_classify_returns_one_label_per_item_in_order(client):
    response = _classify(client, TICKETS)
    assert response.status_code == 200
    items = response.json()["items"]
    assert [i["id"] for i in items] == ["T-1", "T-2", "3", "T-4", "T-5", "T-6"]
    assert set(items[0]) == {"id", *LABEL_COLUMNS}
    assert "reachability" in items[0]["topics"] and isinstance(items[0]["topic_names"], list)
    assert items[3]["status"] == "empty text" and items[4]["status"] == "empty text"
    assert items[0]["status"] == "ok" and 0 < items[0]["confidence"] <= 1


def test_service_labels_equal_batch_labels(tmp_path, client, model):
    texts = [t["text"] or "" for t in TICKETS]
    io.write_table(pd.DataFrame({"id": [str(t["id"]) for t in TICKETS], "text": texts}), tmp_path / "in.parquet")
    label_file(tmp_path / "in.parquet", tmp_path / "out.parquet", text_col="text", model=model, quiet=True)
    batch = pd.read_parquet(tmp_path / "out.parquet")
    served = _classify(client, [{"id": t["id"], "text": text} for t, text in zip(TICKETS, texts)]).json()["items"]
    for row, item in zip(batch.to_dict("records"), served):
        assert item["group"] == row["group"] and item["status"] == row["status"]
        assert ";".join(item["topics"]) == row["topics"] and "; ".join(item["topic_names"]) == row["topic_names"]
        assert (item["is_general"], item["is_repeat"], item["needs_review"]) == (
            row["is_general"], row["is_repeat"], row["needs_review"])
        assert item["confidence"] == pytest.approx(row["confidence"])


def test_transcript_turns_are_accepted(client):
    turns = [{"speaker": "operator", "text": "Здравствуйте, чем могу помочь?"},
             {"speaker": "client", "text": "Звоню уже третий раз, карту заблокировали и никто не помогает"}]
    item = _classify(client, [{"id": "call-1", "turns": turns}]).json()["items"][0]
    assert item["status"] == "ok" and item["is_repeat"] is True


def test_repeats_within_a_request_use_customer_and_time(client):
    text = "не дозвониться до колл-центра, час на линии"
    items = [{"id": "a", "text": text, "customer_id": "c1", "created_at": "2024-03-01T10:00:00+03:00"},
             {"id": "b", "text": text, "customer_id": "c1", "created_at": "2024-03-03T10:00:00+03:00"},
             {"id": "c", "text": text, "customer_id": "c2", "created_at": "2024-03-03T10:00:00+03:00"}]
    assert [i["is_repeat"] for i in _classify(client, items).json()["items"]] == [False, True, False]


def test_long_text_is_truncated_and_flagged(client):
    item = _classify(client, [{"id": "long", "text": "приложение не работает " * 200}]).json()["items"][0]
    assert item["status"] == "truncated" and item["group"]


@pytest.mark.parametrize("body, field", [
    ({"items": [{"id": "1", "text": 12345}]}, "items[0].text"),
    ({"items": [{"id": "1", "text": {"nested": {"deep": [1, 2]}}}]}, "items[0].text"),
    ({"items": [{"id": "1", "turns": [{"speaker": "client", "text": ["x"]}]}]}, "items[0].turns[0].text"),
    ({"items": []}, "items"),
    ({"items": [{"id": str(i), "text": "ок"} for i in range(1001)]}, "items"),
    ({"tickets": [{"text": "ок"}]}, "items"),
    ([1, 2, 3], "body"),
    ({"items": "не список"}, "items"),
])
def test_wrong_types_get_422_naming_the_field(client, body, field):
    response = client.post("/v1/classify", json=body)
    assert response.status_code == 422
    payload = response.json()
    assert field in payload["message"]
    assert all("input" not in e for e in payload["detail"])  # no echo of what the client sent


@pytest.mark.parametrize("raw", [
    b'{"items": [{"id": "1", "text": "abc"}',  # cut off
    b'{"items": [{"id": "1", "text": "\xff\xfe not utf-8"}]}',
    b"[" * 100_000 + b"]" * 100_000,  # nested too deeply for a parser
    b"",
])
def test_malformed_json_gets_422(client, raw):
    response = client.post("/v1/classify", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "message" in response.json() or "detail" in response.json()
    assert _classify(client, TICKETS[:1]).status_code == 200  # and the worker is fine


def test_a_lone_surrogate_in_a_text_or_an_id_is_answered(client):
    # JSON may carry "\ud800", a code point UTF-8 cannot hold: the text is classified, the id sent back escaped
    raw = '{"items": [{"id": "a\\ud800", "text": "приложение \\ud800 опять виснет"}]}'.encode()
    response = client.post("/v1/classify", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 200
    row = response.json()["items"][0]
    assert row["id"] == "a\ud800" and row["status"] == "ok" and "app_website" in row["topics"]


def test_body_over_the_limit_gets_413_by_content_length(client):
    response = _classify(client, [{"id": "big", "text": "а" * 150_000}])
    assert response.status_code == 413 and "bytes" in response.json()["message"]


def test_streamed_body_over_the_limit_gets_413_without_content_length(client):
    def chunks():
        yield b'{"items": [{"id": "1", "text": "'
        for _ in range(30):
            yield b"x" * 10_000
        yield b'"}]}'

    response = client.post("/v1/classify", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert response.status_code == 413


def test_taxonomy_model_card_and_openapi(client, model):
    taxonomy = client.get("/v1/taxonomy").json()
    assert [g["id"] for g in taxonomy["groups"]] == model.taxonomy.group_ids
    assert client.get("/v1/model").json() == model.card
    schema = client.get("/openapi.json").json()
    assert {"ClassifyRequest", "ClassifyResponse", "Item", "Turn", "Labels"} <= set(schema["components"]["schemas"])
    assert client.get("/health").json() == {"status": "ok"}


def test_health_is_503_until_the_model_is_loaded(tmp_path):
    app = create_app(tmp_path / "no-model-here")
    with TestClient(app) as client:  # start-up begins loading in the background; it fails here
        app.state.cxtext.ready.wait(0.5)
        response = client.get("/health")
        assert response.status_code == 503
        assert "no cxtext model" in response.json()["message"]
        assert _classify(client, TICKETS[:1]).status_code == 503


def test_personal_data_never_reaches_the_log(client, caplog):
    secret = "мой телефон +7 916 123-45-67, карта 4276 1600 1234 5678, почта ivan.petrov@mail.ru"
    with caplog.at_level(logging.DEBUG, logger="cxtext.service"):
        response = _classify(client, [{"id": "+79161234567", "text": secret}])
    assert response.status_code == 200
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "classified 1 items" in logged
    for leak in ("916", "4276", "ivan.petrov", "телефон"):
        assert leak not in logged


def test_junk_never_crashes_the_service(client):
    junk = [
        {"id": None, "text": "\x00\x01\x02" * 1000},
        {"id": "🙂" * 500, "text": "\ud800"[:0] + "\u202e" * 100},
        {"id": "x", "text": json.dumps({"a": [1, 2, {"b": None}]})},
        {"id": "y", "turns": []},
        {"id": "z", "turns": [{"speaker": "client", "text": None}], "created_at": "not a date", "customer_id": 5},
        {"id": "w", "text": "ok", "unknown_field": {"deep": [[[[]]]]}},
    ]
    response = _classify(client, junk)
    assert response.status_code == 200
    assert len(response.json()["items"]) == len(junk)


# ---- the micro-batcher and the fast path ---------------------------------------------------------
class _RecordingModel:
    """Wraps the real model and records the size of every predict call."""

    def __init__(self, model):
        self.model = model
        self.calls: list[int] = []
        self.taxonomy_ = model.taxonomy_

    def predict(self, texts):
        self.calls.append(len(texts))
        return self.model.predict(texts)

    def new_history(self):
        return self.model.new_history()


def _asgi_client(app):
    import httpx

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cxtext.test")


@pytest.mark.parametrize("in_thread", [True, False], ids=["predict-in-thread", "predict-in-loop"])
def test_concurrent_requests_are_merged_and_each_gets_its_own_items_in_order(model, in_thread):
    import asyncio

    recording = _RecordingModel(model)
    app = create_app(recording, predict_in_thread=in_thread)
    texts = [t["text"] or "" for t in TICKETS]
    requests = [[{"id": f"r{r}-{i}", "text": texts[(r + i) % len(texts)]} for i in range(1 + r % 4)]
                for r in range(30)]

    async def go():
        async with _asgi_client(app) as client:
            return await asyncio.gather(*(client.post("/v1/classify", json={"items": items}) for items in requests))

    responses = asyncio.run(go())
    alone = {text: row for text, row in zip(texts, classify_items(model, [Item(id="x", text=t) for t in texts]))}
    for items, response in zip(requests, responses):
        assert response.status_code == 200
        got = response.json()["items"]
        assert [g["id"] for g in got] == [i["id"] for i in items]
        for item, row in zip(items, got):
            want = alone[item["text"]]
            assert {k: row[k] for k in row if k != "id"} == {k: want[k] for k in want if k != "id"}
    assert sum(recording.calls) == sum(len(items) for items in requests)
    assert len(recording.calls) < len(requests)  # merged: fewer model calls than requests


@pytest.mark.parametrize("in_thread", [True, False], ids=["predict-in-thread", "predict-in-loop"])
def test_a_large_request_is_split_and_a_single_ticket_behind_it_is_not_kept_waiting(model, in_thread):
    import asyncio

    recording = _RecordingModel(model)
    app = create_app(recording, batch_items=64, predict_in_thread=in_thread)
    big = [{"id": f"b{i}", "text": f"не приходит смс с кодом, попытка {i}"} for i in range(300)]
    done: list[str] = []

    async def post(client, name, items, delay=0.0):
        await asyncio.sleep(delay)
        response = await client.post("/v1/classify", json={"items": items})
        done.append(name)
        return response

    async def go():
        async with _asgi_client(app) as client:
            return await asyncio.gather(post(client, "big", big),
                                        post(client, "single", [{"id": "s", "text": "спасибо!"}], delay=0.001))

    big_response, single_response = asyncio.run(go())
    assert [i["id"] for i in big_response.json()["items"]] == [i["id"] for i in big]
    assert single_response.json()["items"][0]["id"] == "s"
    assert max(recording.calls) <= 64 and sum(recording.calls) == 301
    assert done.index("single") < done.index("big")


@pytest.mark.parametrize("path", ["/v1/classify", "/v1/explain"])
def test_fast_path_answers_like_the_fastapi_route(model, path):
    bodies = [
        {"items": TICKETS},
        {"items": [{"id": "1", "text": 12345}]},
        {"items": []},
        [1, 2, 3],
        {"items": [{"id": "c", "turns": [{"speaker": "client", "text": "карту заблокировали"}],
                    "customer_id": 7, "created_at": "2024-03-01T10:00:00+03:00"}]},
    ]
    fast_app = create_app(model)
    slow_app = create_app(model)
    slow_app.fast_paths = {}  # every request through FastAPI's own route
    with TestClient(fast_app) as fast, TestClient(slow_app) as slow:
        for body in bodies:
            a, b = fast.post(path, json=body), slow.post(path, json=body)
            assert a.status_code == b.status_code
            if a.status_code == 200:
                assert a.json() == b.json()
                assert list(a.json()["items"][0])[:10] == ["id", "group", "group_name", "topics", "topic_names",
                                                           "is_general", "is_repeat", "confidence", "needs_review",
                                                           "status"]
            else:
                assert a.json()["detail"][0]["field"] == b.json()["detail"][0]["field"]


@pytest.mark.parametrize("path", ["/v1/classify", "/v1/explain"])
@pytest.mark.parametrize("headers", [{}, {"content-type": "text/plain"}])
def test_a_body_that_is_not_declared_json_gets_422(client, headers, path):
    response = client.post(path, content=json.dumps({"items": TICKETS[:1]}).encode(), headers=headers)
    assert response.status_code == 422 and "Content-Type: application/json" in response.json()["message"]


@pytest.mark.parametrize("path", ["/v1/classify", "/v1/explain"])
def test_broken_json_is_named_the_same_on_both_routes(client, path):
    response = client.post(path, content=b'{"items":[{"text":"a"}', headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "body" and "position 22" in response.json()["message"]


def test_text_sent_under_another_name_is_refused_rather_than_read_as_empty(client):
    response = client.post("/v1/classify", json={"items": [{"id": 1, "text": "не работает"},
                                                          {"id": 2, "txt": "не работает приложение"}]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "items[1]" and "'txt'" in response.json()["message"]
    answer = client.post("/v1/classify", json={"items": [{"id": 3}, {"id": 4, "text": None, "channel": "email"}]})
    assert [i["status"] for i in answer.json()["items"]] == ["empty text", "empty text"]  # empty tickets stay


def test_json_content_type_variants_are_accepted(client):
    for kind in ("application/json; charset=utf-8", "application/vnd.cxtext+json"):
        response = client.post("/v1/classify", content=json.dumps({"items": TICKETS[:1]}).encode(),
                               headers={"content-type": kind})
        assert response.status_code == 200, kind


def test_classify_is_503_with_retry_after_until_the_model_is_loaded(tmp_path):
    app = create_app(tmp_path / "no-model-here")
    with TestClient(app) as client:
        response = _classify(client, TICKETS[:1])
        assert response.status_code == 503 and response.headers["retry-after"] == "1"


def test_openapi_still_declares_classify(client):
    schema = client.get("/openapi.json").json()
    body = schema["paths"]["/v1/classify"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/ClassifyRequest")


def test_an_internal_error_is_a_500_that_leaks_no_text_and_the_service_goes_on(model, caplog):
    class Broken(_RecordingModel):
        def predict(self, texts):
            if any("сломай" in t for t in texts):
                return pd.DataFrame({"group": ["x"] * len(texts)})  # columns missing: the service fails
            return self.model.predict(texts)

    with TestClient(create_app(Broken(model))) as client, caplog.at_level(logging.DEBUG, logger="cxtext.service"):
        response = _classify(client, [{"id": "1", "text": "сломай меня, телефон +7 916 123-45-67"}])
        assert response.status_code == 500 and "retried" in response.json()["message"]
        assert _classify(client, TICKETS[:1]).status_code == 200
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "classify failed" in logged and "916" not in logged and "сломай" not in logged


def test_an_item_without_text_is_answered_as_empty_not_refused(client):
    # JSON libraries often leave out null fields: one such ticket must not cost the whole batch
    response = client.post("/v1/classify", json={"items": [{"id": "a", "text": "ок"}, {"id": "b"}, {"id": "c", "text": None},
                                                           {"id": "d", "turns": []}]})
    assert response.status_code == 200
    assert [i["status"] for i in response.json()["items"]] == ["ok", "empty text", "empty text", "empty text"]


def test_serve_without_the_service_extra_says_what_to_install(monkeypatch, capsys):
    from cxtext.cli import main

    monkeypatch.delitem(sys.modules, "cxtext.service", raising=False)
    monkeypatch.setitem(sys.modules, "fastapi", None)  # as if not installed
    assert main(["serve"]) == 2
    assert "pip install 'cxtext[service]'" in capsys.readouterr().err


def test_explain_gives_the_labels_of_classify_and_the_words_behind_them(client, caplog):
    items = TICKETS + [{"id": "C-1", "turns": [{"speaker": "client", "text": "верните деньги за подписку"},
                                               {"speaker": "operator", "text": "уточните номер договора"}]},
                       {"id": "P-1", "text": "приложение вылетает, мой телефон +7 916 123-45-67"}]
    with caplog.at_level(logging.DEBUG, logger="cxtext.service"):
        response = client.post("/v1/explain", json={"items": items})
    assert response.status_code == 200
    explained = response.json()["items"]
    classified = _classify(client, items).json()["items"]
    assert [{k: v for k, v in e.items() if k not in ("group_words", "topic_words")} for e in explained] == classified
    for item in explained:
        assert set(item["topic_words"]) == set(item["topics"])  # every topic named, carried or not
    assert explained[0]["topic_words"]["reachability"][0]["word"] == "дозвониться"
    claim = explained[-2]
    assert claim["group"] == "claim" and "верните" in [w["word"] for w in claim["group_words"]]
    words = {w["word"] for item in explained for ws in [item["group_words"], *item["topic_words"].values()]
             for w in ws}
    assert not words & {"уточните", "client", "text"} and not any("916" in w for w in words)
    assert "916" not in "\n".join(r.getMessage() for r in caplog.records)


def test_explain_takes_at_most_100_items(client):
    response = client.post("/v1/explain", json={"items": [{"text": "спасибо"}] * 101})
    assert response.status_code == 422


def test_explain_refuses_more_text_than_it_can_afford_and_bad_bytes_get_422(model):
    with TestClient(create_app(model)) as client:
        response = client.post("/v1/explain", json={"items": [{"text": "приложение вылетает " * 1000}] * 6})
        assert response.status_code == 422 and "at most 100,000" in response.json()["message"]
        raw = client.post("/v1/explain", content=b"\xff\xfe{", headers={"content-type": "application/json"})
        assert raw.status_code == 422


def test_a_second_explanation_while_one_runs_gets_429_and_classify_still_answers(model):
    import threading

    started, release = threading.Event(), threading.Event()

    class Slow:
        def __getattr__(self, name):
            return getattr(model, name)

        def predict_scores(self, texts):
            started.set()
            release.wait(10)
            return model.predict_scores(texts)

    with TestClient(create_app(Slow())) as client:
        first = threading.Thread(target=client.post, args=("/v1/explain",),
                                 kwargs={"json": {"items": [{"text": "приложение вылетает"}]}})
        first.start()
        assert started.wait(10)
        second = client.post("/v1/explain", json={"items": [{"text": "спасибо"}]})
        assert second.status_code == 429 and second.headers["retry-after"] == "5"
        assert _classify(client, TICKETS[:1]).status_code == 200
        release.set()
        first.join(10)
