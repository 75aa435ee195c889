from collections import Counter

import numpy as np

from cxtext.features import TextFeatures
from cxtext.preprocess import prepare_many


def _char_reference(features: TextFeatures, texts: list[str]) -> np.ndarray:
    """The character block by its definition, with sklearn's own char_wb analyzer: per distinct word,
    its n-grams' sublinear tf x idf; per text, the sum over its words over the root of their squares."""
    vec = features.char
    analyze = vec.build_analyzer()
    out = np.zeros((len(texts), len(vec.vocabulary_)))
    for row, text in enumerate(texts):
        squares = 0.0
        for word in dict.fromkeys(text.split()):
            vector = np.zeros(len(vec.vocabulary_))
            for gram, count in Counter(g for g in analyze(word) if g in vec.vocabulary_).items():
                vector[vec.vocabulary_[gram]] = (1 + np.log(count)) * vec.idf_[vec.vocabulary_[gram]]
            out[row] += vector
            squares += vector @ vector
        if squares:
            out[row] /= np.sqrt(squares)
    return out

TEXTS = ["Не работает приложуха, звоню уже третий раз", "оч долго ждал курьера 😡", "а", "",
         "ab  cd\u00a0ef", "Клиент: верните деньги\nОператор: уточните номер", "спасибо!!!", "x" * 60]


def test_cached_char_ngrams_equal_their_definition():
    docs = prepare_many(TEXTS * 3)
    features = TextFeatures.fit(docs)
    texts = [d.text for d in docs] + ["совсем новые словечки, которых не было"]
    ours = features._char.transform(texts)
    ours_again = features._char.transform(texts)  # from the cache this time
    theirs = _char_reference(features, texts)
    assert ours.shape == theirs.shape
    assert np.abs(ours.toarray() - theirs).max() < 1e-6
    assert np.abs(ours_again.toarray() - theirs).max() < 1e-6


def test_a_word_said_twice_counts_once():
    docs = prepare_many(TEXTS * 3)
    features = TextFeatures.fit(docs)
    once, twice = features._char.transform(["приложуха виснет", "приложуха виснет приложуха"]).toarray()
    assert np.abs(once).sum() > 0 and np.abs(once - twice).max() == 0


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


VARIED = ["Приложуха виснет 😡😡 при входе в ЛК!!!", "оч долго ждал курьера, 3 часа", "a b c d e f", "я",
          "ЗВОНЮ ТРЕТИЙ РАЗ", "спасибо)))", "перевод 5000 р не дошёл <NUM> <CARD>", "x" * 60, "ёжик в тумане",
          "Клиент: верните деньги\nОператор: уточните номер", "www.bank.ru не открывается", "日本語 テスト",
          "нормально", "не работает не работает не работает", "ab  cd\u00a0ef\tgh", "🙂", "Ок ок ок ок"]


def test_vectorised_ngrams_equal_sklearn_on_words_never_seen_in_fitting():
    docs = prepare_many(VARIED * 3)
    features = TextFeatures.fit(docs)
    unseen = prepare_many(["совсем новые словечки 🤷 и старые: приложуха виснет", "xyz", "", "  ", "日本",
                           "долго долго долго ждал", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ⓣⓔⓧⓣ", "a" * 5000])
    texts = [d.text for d in docs + unseen]
    assert np.abs(features._char.transform(texts).toarray() - _char_reference(features, texts)).max() < 1e-6
    lemmas = [d.features for d in docs + unseen]
    assert np.abs((features._word.transform(lemmas) - features.word.transform(lemmas)).toarray()).max() < 1e-6


def test_code_table_finds_every_code_it_holds_and_nothing_else():
    from cxtext.features import _CodeTable

    rng = np.random.default_rng(0)
    codes = np.unique(rng.integers(0, 2**62, 5_000))
    table = _CodeTable(codes, np.arange(len(codes)) * 7)
    assert (table.find(codes[::-1]) == (np.arange(len(codes)) * 7)[::-1]).all()
    absent = np.setdiff1d(rng.integers(0, 2**62, 5_000), codes)
    assert (table.find(absent) == -1).all()
    empty = _CodeTable(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    assert (empty.find(codes) == -1).all()


def test_char_ngrams_in_blocks_equal_one_block(monkeypatch):
    import cxtext.features as features_module

    docs = prepare_many(VARIED * 3)
    features = TextFeatures.fit(docs)
    texts = [d.text for d in docs]
    whole = features._char.transform(texts)
    monkeypatch.setattr(features_module, "_WORDS_PER_BLOCK", 3)
    assert np.abs((features._char.transform(texts) - whole).toarray()).max() == 0


def test_a_vocabulary_of_thousands_of_characters_is_refused_with_a_clear_message():
    import pytest

    from cxtext.errors import ModelError
    from cxtext.preprocess import Prepared

    text = " ".join(chr(0x4E00 + i) for i in range(7_000))  # 7,000 CJK ideographs, one per word
    docs = [Prepared(features="слово", text=text, masked=text, status="ok")] * 3
    features = TextFeatures.fit(docs)
    with pytest.raises(ModelError, match="distinct characters"):
        features.transform(docs)


def test_words_cached_across_calls_give_the_same_matrix_when_full_and_when_cleared(monkeypatch):
    import cxtext.features as features_module

    docs = prepare_many(VARIED * 3)
    features = TextFeatures.fit(docs)
    texts = [d.text for d in docs]
    batches = [[t] for t in texts[:17]] + [texts[:2], ["приложуха виснет опять", "новое слово"], texts]
    monkeypatch.setattr(features_module, "_CACHED_WORDS", 12)  # fills up, and one batch is larger
    for i, batch in enumerate(batches * 2):
        if i == len(batches) + 3:
            features_module.clear_cache()
        ours, theirs = features._char.transform(batch), _char_reference(features, batch)
        assert np.abs(ours.toarray() - theirs).max() < 1e-6
        assert features._char._known.size <= 12



def test_a_lone_surrogate_is_a_character_like_any_other():
    docs = prepare_many(TEXTS * 3)
    features = TextFeatures.fit(docs)
    texts = ["приложуха \ud800 виснет", "\udfff", "ок"]
    assert np.abs(features._char.transform(texts).toarray() - _char_reference(features, texts)).max() < 1e-6


def test_dot_with_one_column_of_weights_equals_the_product():
    docs = prepare_many(VARIED * 3)
    features = TextFeatures.fit(docs)
    coef = np.random.default_rng(1).normal(size=features.n_features).astype(np.float32)
    expected = features.transform(docs) @ coef
    assert features.dot(docs, coef).shape == expected.shape
    assert np.abs(features.dot(docs, coef) - expected).max() < 1e-4


def test_dot_equals_the_product_as_words_are_cached_forgotten_and_weights_change(monkeypatch):
    import cxtext.features as features_module

    docs = prepare_many(VARIED * 3)
    features = TextFeatures.fit(docs)
    rng = np.random.default_rng(2)
    weights = [rng.normal(size=(features.n_features, 5)).astype(np.float32) for _ in range(2)]
    batches = [docs[:1], docs[1:3], prepare_many(["приложуха виснет опять", "совсем новое слово"]), docs]
    monkeypatch.setattr(features_module, "_CACHED_WORDS", 12)  # fills up, and one batch is larger
    for i, batch in enumerate(batches * 3):
        if i == len(batches) + 1:
            features_module.clear_cache()
        coef = weights[i // len(batches) % 2]  # the second round scores with other weights
        expected = features.transform(batch) @ coef
        assert np.abs(features.dot(batch, coef) - expected).max() < 1e-4
    monkeypatch.setattr(features_module, "_CACHED_WORDS", 100_000)
    for coef in weights + weights:  # the words stay cached while the weights change
        assert np.abs(features.dot(docs, coef) - features.transform(docs) @ coef).max() < 1e-4


def test_tokens_are_found_as_str_split_finds_them_and_coded_the_same_wherever_they_stand(monkeypatch):
    import cxtext.features as features_module
    from cxtext.features import _coded_tokens, _words

    spaces = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000"
    texts = ["", "  ", f" лк{spaces}не работает ", "ok", "\ud800 😡 ok", "日本語" * 50, "a\x00b ok", "ok  ok"]
    lengths, codes, starts, ends, joined = _coded_tokens(texts)
    assert lengths.tolist() == [len(t.split()) for t in texts]
    assert _words(joined, starts, ends) == [w for t in texts for w in t.split()]
    by_word = {}
    for word, code in zip(_words(joined, starts, ends), codes.tolist()):
        assert by_word.setdefault(word, code) == code  # "ok" gets one code in every text
    assert len(set(by_word.values())) == len(by_word)
    # numpy (in blocks of whole texts) and plain Python (a few characters) give the same tokens and codes
    for name, value in (("_FEW_CHARS", 0), ("_CHARS_PER_BLOCK", 5)):
        monkeypatch.setattr(features_module, name, value)
        again = _coded_tokens(texts)
        assert all((a == b).all() for a, b in zip(again[:2], (lengths, codes)))
        assert _words(again[4], again[2], again[3]) == _words(joined, starts, ends)


def test_codes_tell_hundreds_of_thousands_of_short_words_apart():
    from itertools import product

    from cxtext.features import _coded_tokens

    letters = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяabcdefghijklmnopqrstuvwxyz0123456789_<>"
    words = ["".join(p) for n in (1, 2, 3) for p in product(letters, repeat=n)]
    assert len(words) > 370_000
    codes = _coded_tokens(words)[1]
    assert len(set(codes.tolist())) == len(words)
    assert [_coded_tokens([word])[1][0] for word in words[:2_000:7]] == codes[:2_000:7].tolist()  # plain Python


def test_one_huge_text_does_not_leave_its_hash_powers_behind():
    import cxtext.features as features_module

    text = "слово " * 400_000  # 2.4 million characters, more than a block
    lengths, codes = features_module._coded_tokens([text, "слово"])[:2]
    assert lengths.tolist() == [400_000, 1] and len(set(codes.tolist())) == 1
    assert len(features_module._powers_cache[0]) <= 2 * features_module._CHARS_PER_BLOCK
