"""The JSON string-field streamer against json.loads, with the text split at every position."""

from __future__ import annotations

import json
import random

import pytest

from models.streaming import JsonStringFieldStreamer

ANSWER = 'Line one\nline "two" \\ back\tslash, caf\u00e9 \U0001f600 \u2028 end/'


def feed_all(field: str, parts: list[str]) -> tuple[str, JsonStringFieldStreamer]:
    streamer = JsonStringFieldStreamer(field)
    return "".join(streamer.feed(p) for p in parts), streamer


def splits_in_two(text: str) -> list[list[str]]:
    return [[text[:i], text[i:]] for i in range(len(text) + 1)]


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_every_split_point_gives_the_field_value(ensure_ascii: bool) -> None:
    doc = {"answerable": True, "sentences": [3, 7], "answer": ANSWER}
    text = json.dumps(doc, ensure_ascii=ensure_ascii)
    for parts in splits_in_two(text):
        out, streamer = feed_all("answer", parts)
        assert out == ANSWER, parts
        assert streamer.value == ANSWER
        assert streamer.done


def test_one_character_at_a_time_and_escaped_surrogate_pair() -> None:
    text = '{"answer": "smile \\ud83d\\ude00 and \\u00e9\\n"}'
    out, streamer = feed_all("answer", list(text))
    assert out == "smile \U0001f600 and \u00e9\n" == json.loads(text)["answer"]
    assert streamer.done


def test_deltas_return_only_new_characters() -> None:
    streamer = JsonStringFieldStreamer("answer")
    assert streamer.feed('{"answerable": true, "answer": "Al') == "Al"
    assert streamer.feed("ipay \\") == "ipay "
    assert streamer.feed('"is\\u00') == '"is'
    assert streamer.feed("e9") == "\u00e9"
    assert not streamer.done
    assert streamer.feed('"}') == ""
    assert streamer.done
    assert streamer.value == 'Alipay "is\u00e9'


def test_only_the_top_level_field_is_streamed() -> None:
    doc = {
        "note": "answer",  # a value that looks like the key
        "meta": {"answer": "nested, not this"},
        "list": [{"answer": "nor this"}, "answer"],
        "answer": "this one",
        "after": "not this",
    }
    text = json.dumps(doc)
    for parts in splits_in_two(text):
        out, _ = feed_all("answer", parts)
        assert out == "this one"


def test_key_with_escapes_is_matched_decoded() -> None:
    text = '{"an\\u0073wer": "yes", "answer2": "no"}'
    out, _ = feed_all("answer", [text])
    assert out == "yes"


def test_missing_or_non_string_field_gives_nothing() -> None:
    out, streamer = feed_all("answer", ['{"answerable": false}'])
    assert out == "" and not streamer.done
    out, streamer = feed_all("answer", ['{"answer": null, "x": "y"}'])
    assert out == "" and not streamer.done
    out, streamer = feed_all("answer", ['{"answer": ["a", "b"]}'])
    assert out == "" and not streamer.done


def test_lone_surrogates_become_replacement_characters() -> None:
    out, _ = feed_all("answer", ['{"answer": "a\\ud83db\\ude00c"}'])
    assert out == "a\ufffdb\ufffdc"


def test_random_documents_and_random_splits() -> None:
    rng = random.Random(1234)
    alphabet = 'ab "\\/\n\t\u00e9\u4e2d\U0001f600\x01{}[],:'
    for _ in range(300):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        doc: dict[str, object] = {
            "sentences": [rng.randint(0, 9) for _ in range(rng.randint(0, 3))],
            "answer": value,
            "tail": {"answer": "x"},
        }
        if rng.random() < 0.5:
            doc = {"answer": value, "answerable": rng.random() < 0.5}
        text = json.dumps(doc, ensure_ascii=rng.random() < 0.5)
        cuts = sorted(rng.sample(range(len(text) + 1), k=min(len(text) + 1, rng.randint(0, 12))))
        parts = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        out, streamer = feed_all("answer", parts)
        assert out == value, (text, parts)
        assert streamer.done


def test_forced_opening_of_an_object_whose_first_field_is_a_plain_string() -> None:
    from models.decoding import forced_opening

    answer = {
        "type": "object",
        "properties": {"answer": {"type": "string"}, "answerable": {"type": "boolean"}},
        "required": ["answer", "answerable"],
        "additionalProperties": False,
    }
    assert forced_opening(answer) == '{"answer": "'
    assert forced_opening({**answer, "additionalProperties": True}) == ""
    # A yes/no answer's pattern still opens the same way, so the answer's first token is the
    # first one decoded (and the one the opening bias reaches).
    patterned = {**answer, "properties": {"answer": {"type": "string", "pattern": "^Y"}}}
    assert forced_opening(patterned) == '{"answer": "'
    enumerated = {**answer, "properties": {"answer": {"type": "string", "enum": ["Y"]}}}
    assert forced_opening(enumerated) == ""
    assert forced_opening({**answer, "required": ["answerable"]}) == ""
    assert forced_opening(None) == ""
