import numpy as np

from cxtext.features import TextFeatures
from cxtext.preprocess import prepare_many

TEXTS = ["Не работает приложуха, звоню уже третий раз", "оч долго ждал курьера 😡", "а", "",
         "ab  cd\u00a0ef", "Клиент: верните деньги\nОператор: уточните номер", "спасибо!!!", "x" * 60]


def test_cached_char_ngrams_equal_sklearn_tfidf():
    docs = prepare_many(TEXTS * 3)
    features = TextFeatures.fit(docs)
    texts = [d.text for d in docs] + ["совсем новые словечки, которых не было"]
    ours = features._char.transform(texts)
    ours_again = features._char.transform(texts)  # from the cache this time
    theirs = features.char.transform(texts)
    assert ours.shape == theirs.shape
    assert np.abs((ours - theirs).toarray()).max() < 1e-6
    assert np.abs((ours_again - theirs).toarray()).max() < 1e-6


def test_state_round_trip_gives_the_same_matrix():
    docs = prepare_many(TEXTS * 3)
    features = TextFeatures.fit(docs)
    meta, arrays = features.to_state()
    again = TextFeatures.from_state(meta, arrays)
    assert np.abs((features.transform(docs) - again.transform(docs)).toarray()).max() < 1e-6


def test_word_ngrams_equal_sklearn_tfidf():
    docs = prepare_many(TEXTS * 3)
    features = TextFeatures.fit(docs)
    texts = [d.features for d in docs] + ["не_работать приложение совсем новый слово"]
    ours = features._word.transform(texts)
    theirs = features.word.transform(texts)
    assert ours.shape == theirs.shape
    assert np.abs((ours - theirs).toarray()).max() < 1e-6


def test_dot_equals_the_product_with_the_stacked_matrix():
    docs = prepare_many(TEXTS * 3)
    features = TextFeatures.fit(docs)
    coef = np.random.default_rng(0).normal(size=(features.n_features, 3)).astype(np.float32)
    expected = np.asarray(features.transform(docs) @ coef)
    assert np.abs(features.dot(docs, coef) - expected).max() < 1e-4
