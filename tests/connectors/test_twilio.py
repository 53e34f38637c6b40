"""WhatsApp through Twilio: the request signature (Twilio's published vector), the form's
shapes, rendering as numbered options."""

from __future__ import annotations

import urllib.parse

import httpx
import pytest

from bot.conversation.channel import ChannelError
from connectors.twilio import PROFILE_NAME_KEY, TwilioChannel, signature

# The example of Twilio's request-validation documentation (and of its official SDKs' tests).
DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_PARAMS = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
              "From": "+14158675309", "To": "+18005551212"}  # fmt: skip
DOC_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def channel(public_url: str | None = None) -> TwilioChannel:
    return TwilioChannel(httpx.AsyncClient(), "http://t.test", "AC1", "12345", "+14155238886",
                         public_url)  # fmt: skip


def test_twilio_published_signature_vector() -> None:
    assert signature(DOC_URL, DOC_PARAMS, "12345") == DOC_SIGNATURE
    assert signature(DOC_URL, {**DOC_PARAMS, "Digits": "9999"}, "12345") != DOC_SIGNATURE
    assert signature(DOC_URL + "&x=1", DOC_PARAMS, "12345") != DOC_SIGNATURE


def test_verify_uses_the_public_url_and_every_parameter() -> None:
    body = urllib.parse.urlencode(DOC_PARAMS).encode()
    channel().verify(body, {"x-twilio-signature": DOC_SIGNATURE}, DOC_URL)
    # Behind a proxy the gateway sees another URL: the configured public one is signed.
    channel(DOC_URL).verify(body, {"x-twilio-signature": DOC_SIGNATURE}, "http://10.0.0.5/x")
    for headers, url in (({}, DOC_URL), ({"x-twilio-signature": DOC_SIGNATURE}, DOC_URL + "x"),
                         ({"x-twilio-signature": "AAAA"}, DOC_URL)):  # fmt: skip
        with pytest.raises(ChannelError) as refused:
            channel().verify(body, headers, url)
        assert refused.value.status == 403


def test_form_shapes() -> None:
    wa = channel()
    [text] = wa.parse({"From": "whatsapp:+51999", "Body": "hola", "MessageSid": "SM1",
                       "NumMedia": "0", "ProfileName": "Rosa"})  # fmt: skip
    assert (text.sender_id, text.text, text.platform_id) == ("+51999", "hola", "twilio:SM1")
    assert text.metadata == {PROFILE_NAME_KEY: "Rosa"}
    [media] = wa.parse({"From": "whatsapp:+51999", "Body": "", "MessageSid": "SM2",
                        "NumMedia": "1"})  # fmt: skip
    assert media.unsupported == "media"
    [button] = wa.parse({"From": "whatsapp:+51999", "Body": "IGV", "MessageSid": "SM3",
                         "ButtonPayload": "/igv"})  # fmt: skip
    assert button.text == "/igv"
    with pytest.raises(ChannelError):
        wa.parse({"Body": "sin remitente"})


def test_buttons_become_numbered_options_and_the_number_is_the_answer() -> None:
    wa = channel()
    [part] = wa.render([{"text": "¿Qué deseas?", "buttons": [
        {"title": "Sacar mi RUC", "payload": "/ruc_inscripcion_dni"},
        {"title": "Clave SOL", "payload": "/clave_sol_que_es"}]}], "+51999")  # fmt: skip
    assert part["Body"] == (
        "¿Qué deseas?\n\n1. Sacar mi RUC\n2. Clave SOL\n\nResponde con el número de tu opción."
    )
    [answer] = wa.parse({"From": "whatsapp:+51999", "Body": "2", "MessageSid": "SM9"})
    assert answer.text == "/clave_sol_que_es"
    long = wa.render([{"text": "Una oración. " * 300}], "+51999")
    assert all(len(p["Body"]) <= 1600 for p in long) and len(long) == 3
