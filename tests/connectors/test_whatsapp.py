"""WhatsApp Cloud API adapter: every webhook shape, and rendering within the limits."""

from __future__ import annotations

import httpx
import pytest

from bot.conversation.channel import BUTTON_TITLE_KEY, ChannelError
from connectors.whatsapp import PROFILE_NAME_KEY, WhatsAppChannel


def channel() -> WhatsAppChannel:
    return WhatsAppChannel(httpx.AsyncClient(), "http://graph.test/v21.0", "PHONE", "tok", "s")


def msg(sender: str, wamid: str, ts: int, kind: str, **body: object) -> dict[str, object]:
    return {"from": sender, "id": wamid, "timestamp": str(ts), "type": kind, **body}


# In the shape Meta documents: one entry, two changes, messages out of order, statuses.
WEBHOOK = {
    "object": "whatsapp_business_account",
    "entry": [{"id": "WABA", "changes": [
        {"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "5101", "phone_number_id": "PHONE"},
            "contacts": [{"profile": {"name": "Rosa Quispe"}, "wa_id": "51999"}],
            "messages": [
                msg("51999", "wamid.B", 1700000020, "interactive",
                    interactive={"type": "button_reply",
                                 "button_reply": {"id": "/ruc_costo", "title": "¿Es gratis?"}}),
                msg("51999", "wamid.A", 1700000010, "text", text={"body": "hola"}),
                msg("51999", "wamid.C", 1700000030, "interactive",
                    interactive={"type": "list_reply",
                                 "list_reply": {"id": "/igv", "title": "IGV"}}),
                msg("51999", "wamid.D", 1700000040, "button",
                    button={"payload": "/cronograma", "text": "Fechas"}),
                msg("51999", "wamid.E", 1700000050, "location",
                    location={"latitude": -12.0, "longitude": -77.0}),
                msg("51999", "wamid.F", 1700000060, "sticker", sticker={"id": "x"}),
            ],
        }},
        {"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "statuses": [
                {"id": "wamid.OUT1", "status": "delivered", "timestamp": "1700000100",
                 "recipient_id": "51999"},
                {"id": "wamid.OUT2", "status": "read", "timestamp": "1700000200",
                 "recipient_id": "51999"},
                {"id": "wamid.OUT3", "status": "failed", "timestamp": "1700000300",
                 "recipient_id": "51999",
                 "errors": [{"code": 131047, "title": "Re-engagement message"}]},
                {"id": "wamid.OUT4", "status": "sent", "timestamp": "1700000300",
                 "recipient_id": "51999"},
            ],
        }},
    ]}],
}  # fmt: skip


def envelope(*messages: dict[str, object]) -> dict[str, object]:
    changes = [{"value": {"messages": list(messages)}}]
    return {"object": "whatsapp_business_account", "entry": [{"id": "W", "changes": changes}]}


def test_every_message_shape_in_timestamp_order() -> None:
    parsed = channel().parse(WEBHOOK)
    assert [(m.platform_id, m.text, m.unsupported) for m in parsed] == [
        ("whatsapp:wamid.A", "hola", None),
        ("whatsapp:wamid.B", "/ruc_costo", None),
        ("whatsapp:wamid.C", "/igv", None),
        ("whatsapp:wamid.D", "/cronograma", None),
        ("whatsapp:wamid.E", "", "location"),
        ("whatsapp:wamid.F", "", "sticker"),
    ]
    assert parsed[0].metadata == {PROFILE_NAME_KEY: "Rosa Quispe"}
    assert parsed[1].metadata[BUTTON_TITLE_KEY] == "¿Es gratis?"


def test_statuses() -> None:
    found = channel().statuses(WEBHOOK)
    assert [(s.status, s.platform_ids, s.error) for s in found] == [
        ("delivered", ("whatsapp:wamid.OUT1",), None),
        ("read", ("whatsapp:wamid.OUT2",), None),
        ("failed", ("whatsapp:wamid.OUT3",), "code 131047: Re-engagement message"),
    ]


def test_an_unknown_object_is_refused() -> None:
    with pytest.raises(ChannelError) as refused:
        channel().parse({"object": "page", "entry": []})
    assert refused.value.status == 400


def buttons(n: int, title: str = "Opción") -> list[dict[str, str]]:
    return [{"title": f"{title} {i}", "payload": f"/op{i}"} for i in range(1, n + 1)]


def test_up_to_three_buttons_are_reply_buttons() -> None:
    [part] = channel().render(
        [{"text": "¿Qué deseas?", "buttons": buttons(3, "Un título bastante largo")}], "51999"
    )
    interactive = part["interactive"]
    assert interactive["type"] == "button" and interactive["body"] == {"text": "¿Qué deseas?"}
    replies = [b["reply"] for b in interactive["action"]["buttons"]]
    assert [r["id"] for r in replies] == ["/op1", "/op2", "/op3"]  # unique ids
    assert all(len(r["title"]) <= 20 for r in replies) and "…" in replies[0]["title"]


def test_four_to_ten_options_are_a_list() -> None:
    [part] = channel().render(
        [{"text": "Elige tu actividad:", "buttons": buttons(9, "Servicios no profesionales")}],
        "51999",
    )
    action = part["interactive"]["action"]
    rows = action["sections"][0]["rows"]
    assert part["interactive"]["type"] == "list" and len(rows) == 9
    assert len(action["button"]) <= 20
    assert all(len(r["title"]) <= 24 and len(r.get("description", "")) <= 72 for r in rows)


def test_more_options_are_a_numbered_text_and_the_number_is_the_answer() -> None:
    wa = channel()
    [part] = wa.render([{"text": "Elige:", "buttons": buttons(12)}], "51999")
    body = part["text"]["body"]
    assert "12. Opción 12" in body and "Responde con el número" in body
    answer = {**WEBHOOK, "entry": [{"id": "W", "changes": [{"value": {
        "messages": [msg("51999", "wamid.N", 1, "text", text={"body": " 12 "})]}}]}]}  # fmt: skip
    assert wa.parse(answer)[0].text == "/op12"


def test_long_texts_are_split_and_an_interactive_body_stays_short() -> None:
    sentence = "Una oración de prueba con algo de contenido. "
    parts = channel().render([{"text": sentence * 120, "buttons": buttons(2)}], "51999")
    texts = [p["text"]["body"] for p in parts if p["type"] == "text"]
    assert all(len(t) <= 4096 for t in texts) and len(texts) == 2
    assert parts[-1]["type"] == "interactive"
    assert len(parts[-1]["interactive"]["body"]["text"]) <= 1024


def test_numbered_options_answer_only_the_next_message() -> None:
    wa = channel()
    wa.render([{"text": "Elige:", "buttons": buttons(12)}], "51999")
    first = envelope(msg("51999", "wamid.X", 1, "text", text={"body": "cuantos trabajadores"}))
    assert wa.parse(first)[0].text == "cuantos trabajadores"
    later = envelope(msg("51999", "wamid.Y", 2, "text", text={"body": "3"}))
    assert wa.parse(later)[0].text == "3"  # a plain number later is just a number


def test_duplicate_buttons_and_silent_messages() -> None:
    twice = [{"title": "IGV", "payload": "/igv"}, {"title": "IGV", "payload": "/igv2"},
             {"title": "UIT", "payload": "/igv"}]  # fmt: skip
    [part] = channel().render([{"text": "Elige", "buttons": twice}], "51999")
    replies = [b["reply"] for b in part["interactive"]["action"]["buttons"]]
    assert [r["id"] for r in replies] == ["/igv", "/igv2"]  # a repeated id is dropped
    assert len({r["title"] for r in replies}) == 2  # and the titles are told apart
    reaction = envelope(msg("51999", "wamid.R", 1, "reaction", reaction={"emoji": "👍"}))
    assert channel().parse(reaction) == []


def test_titles_made_distinct_after_shortening() -> None:
    [part] = channel().render(
        [{"text": "Elige", "buttons": buttons(3, "Un título bastante largo")}], "51999"
    )
    titles = [b["reply"]["title"] for b in part["interactive"]["action"]["buttons"]]
    assert len(set(titles)) == 3 and all(len(t) <= 20 for t in titles)
