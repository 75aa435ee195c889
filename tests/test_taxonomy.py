import pytest

from cxtext.errors import InputError
from cxtext.taxonomy import from_dict, load_taxonomy

SHARED_IDS_GROUPS = ["consultation", "service_request", "complaint", "claim", "gratitude", "suggestion"]
SHARED_IDS_TOPICS = ["reachability", "staff_competence", "staff_attitude", "speed", "app_website", "payments",
                     "fees_prices", "product_quality", "delivery", "branch_queue", "documents",
                     "sales_pressure", "communication", "security_blocking", "refunds"]


def test_default_taxonomy_follows_the_shared_schema_ids_exactly():
    tax = load_taxonomy()
    assert tax.group_ids == SHARED_IDS_GROUPS
    assert tax.topic_ids == SHARED_IDS_TOPICS
    assert tax.group_priority == ("claim", "complaint", "service_request", "consultation", "suggestion",
                                  "gratitude")
    assert tax.group_points()["claim"] == 2 and tax.group_points()["consultation"] == 1
    assert tax.repeat_points == 3 and tax.repeat_window_days == 30
    assert tax.topic_name("reachability") == "Дозвон и ожидание ответа"


def test_unknown_labels_are_reported_by_row():
    tax = load_taxonomy()
    with pytest.raises(InputError) as err:
        tax.check_labels(["complaint", "angry", "claim"], [[], ["speed"], ["speeed"]])
    message = str(err.value)
    assert "row 2: group 'angry'" in message and "row 3: topic 'speeed'" in message


def test_an_analyst_can_add_a_topic_and_save_the_taxonomy(tmp_path):
    tax = load_taxonomy().with_topic("cashback", "Кешбэк", "начисление кешбэка")
    tax.save(tmp_path / "taxonomy.yaml")
    again = load_taxonomy(tmp_path / "taxonomy.yaml")
    assert again.topic_ids[-1] == "cashback" and again.topic_name("cashback") == "Кешбэк"
    with pytest.raises(InputError):
        again.with_topic("cashback", "дубль")


@pytest.mark.parametrize("bad", [{}, {"groups": [{"id": "a"}]}, {"groups": [{"name": "x"}], "topics": [{"id": "t"}]},
                                 {"groups": [{"id": "a"}, {"id": "a"}], "topics": [{"id": "t"}]}])
def test_broken_taxonomies_get_a_clear_error(bad):
    with pytest.raises(InputError):
        from_dict(bad)


def test_missing_taxonomy_file_names_the_path(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_taxonomy(tmp_path / "nope.yaml")


def test_a_key_written_twice_in_a_taxonomy_file_is_named_with_its_line(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("name: my\nversion: '1'\ngroups:\n  - id: complaint\n    name: Жалоба\n    name: Ж\n"
                    "topics:\n  - id: speed\n    name: Скорость\n", "utf-8")
    with pytest.raises(InputError, match=r"key 'name' is written twice(.|\n)*line 6"):
        load_taxonomy(path)
