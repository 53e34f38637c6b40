"""Messenger's adapter: every event shape of a webhook batch, and rendering within the limits."""

from __future__ import annotations

import httpx
import pytest

from bot.conversation.channel import BUTTON_TITLE_KEY, ChannelError
from connectors.base import shorten, split_text
from connectors.messenger import MAX_TEXT, MessengerChannel
from connectors.meta import check_signature, check_subscription, sign

SECRET = "app-secret-for-tests"


def channel() -> MessengerChannel:
    return MessengerChannel(httpx.AsyncClient(), "http://graph.test/v21.0", "page-token", SECRET)


def event(sender: str, **kind: object) -> dict[str, object]:
    return {"sender": {"id": sender}, "recipient": {"id": "PAGE"}, "timestamp": 1764300000000,
            **kind}  # fmt: skip


# A batch in the shape Meta documents: two entries, several events each.
BATCH = {
    "object": "page",
    "entry": [
        {"id": "PAGE", "time": 1764300000000, "messaging": [
            event("111", message={"mid": "m_1", "text": "hola"}),
            event("111", message={"mid": "m_2", "text": "Regímenes",
                                  "quick_reply": {"payload": "/regimenes_resumen"}}),
            event("PAGE", message={"mid": "m_3", "text": "eco", "is_echo": True}),
            event("222", postback={"mid": "m_4", "title": "Sacar mi RUC",
                                   "payload": "/ruc_inscripcion_dni"}),
        ]},
        {"id": "PAGE", "time": 1764300000001, "messaging": [
            event("333", message={"mid": "m_5", "attachments": [
                {"type": "image", "payload": {"url": "https://x/y.jpg"}},
                {"type": "location", "payload": {}}]}),
            event("111", delivery={"mids": ["m_out1", "m_out2"], "watermark": 1764300001000}),
            event("111", read={"watermark": 1764300002000}),
            {"recipient": {"id": "PAGE"}, "message": {"mid": "m_6", "text": "sin remitente"}},
        ]},
    ],
}  # fmt: skip


def test_every_event_of_a_batch() -> None:
    parsed = channel().parse(BATCH)
    assert [(m.sender_id, m.text, m.platform_id, m.unsupported) for m in parsed] == [
        ("111", "hola", "messenger:m_1", None),
        ("111", "/regimenes_resumen", "messenger:m_2", None),  # the payload wins
        ("222", "/ruc_inscripcion_dni", "messenger:m_4", None),
        ("333", "", "messenger:m_5", "image,location"),
    ]
    assert parsed[1].metadata == {BUTTON_TITLE_KEY: "Regímenes"}
    assert parsed[2].metadata == {BUTTON_TITLE_KEY: "Sacar mi RUC"}
    statuses = channel().statuses(BATCH)
    assert [(s.sender_id, s.status, s.platform_ids) for s in statuses] == [
        ("111", "delivered", ("messenger:m_out1", "messenger:m_out2")),
        ("111", "read", ()),
    ]
    assert statuses[1].moment.timestamp() == 1764300002


@pytest.mark.parametrize("payload", [{"object": "instagram", "entry": []}, [], "x", None])
def test_an_unknown_object_is_refused(payload: object) -> None:
    with pytest.raises(ChannelError) as refused:
        channel().parse(payload)
    assert refused.value.status == 400


def test_signature() -> None:
    body = b'{"object":"page"}'
    check_signature(body, {"x-hub-signature-256": sign(body, SECRET)}, SECRET)
    for headers in ({}, {"x-hub-signature-256": sign(body, "other")},
                    {"x-hub-signature-256": sign(body, SECRET)[7:]},
                    {"x-hub-signature": "sha1=" + "0" * 40}):  # fmt: skip
        with pytest.raises(ChannelError) as refused:
            check_signature(body, headers, SECRET)
        assert refused.value.status == 403


def test_subscription() -> None:
    check_subscription("subscribe", "tok", "tok")
    for mode, token in (("subscribe", "otro"), ("unsubscribe", "tok"), (None, None)):
        with pytest.raises(ChannelError):
            check_subscription(mode, token, "tok")


def test_text_is_split_between_sentences_at_2000_characters() -> None:
    sentence = "Esta es una oración de prueba con algo de contenido. "
    text = sentence * 100  # about 5,300 characters
    pieces = split_text(text, MAX_TEXT)
    assert all(len(p) <= 2000 for p in pieces) and len(pieces) == 3
    assert all(p.endswith(".") for p in pieces)
    assert " ".join(pieces).split() == text.split()
    fits = "¡Hola! Soy el asistente.\nTe ayudo con tu RUC."
    assert split_text(fits, MAX_TEXT) == [fits]  # left as it is, line breaks included
    long_word = "x" * 4500
    assert [len(p) for p in split_text(long_word, MAX_TEXT)] == [2000, 2000, 500]


def test_up_to_three_buttons_with_a_short_text_are_a_button_template() -> None:
    [part] = channel().render(
        [{"text": "¿Qué deseas?", "buttons": [
            {"title": "Sacar mi RUC con DNI ahora", "payload": "/ruc_inscripcion_dni"},
            {"title": "Clave SOL", "payload": "/clave_sol_que_es"}]}],
        "111",
    )  # fmt: skip
    template = part["attachment"]["payload"]
    assert template["template_type"] == "button" and template["text"] == "¿Qué deseas?"
    assert template["buttons"][0] == {
        "type": "postback", "title": "Sacar mi RUC con DN…", "payload": "/ruc_inscripcion_dni",
    }  # fmt: skip
    assert len(template["buttons"][0]["title"]) == 20


def test_many_buttons_or_a_long_text_become_quick_replies() -> None:
    buttons = [{"title": f"Opción número {i}", "payload": f"/op{i}"} for i in range(15)]
    [part] = channel().render([{"text": "Elige", "buttons": buttons}], "111")
    assert len(part["quick_replies"]) == 13
    assert all(len(q["title"]) <= 20 for q in part["quick_replies"])
    parts = channel().render([{"text": "a. " * 300, "buttons": buttons[:2]}], "111")
    assert "quick_replies" in parts[-1] and len(parts[-1]["text"]) > 640


def test_shorten() -> None:
    assert shorten("Corto", 20) == "Corto"
    assert shorten("Un título demasiado largo", 20) == "Un título demasiado…"


def test_non_ascii_signatures_and_tokens_are_refused_not_crashed() -> None:
    with pytest.raises(ChannelError) as refused:
        check_signature(b"{}", {"x-hub-signature-256": "sha256=ñandú"}, SECRET)
    assert refused.value.status == 403
    with pytest.raises(ChannelError):
        check_subscription("subscribe", "contraseña", "tok")
