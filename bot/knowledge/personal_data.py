"""Citizens' personal data in what they write: RUCs, DNIs, phone numbers and e-mail addresses.
Shared by the rooms that show or keep what citizens wrote (the workbench's review inbox, the
fanpage's comments in bot/listening/, the satisfaction survey's comments).

Two ways to keep it out of sight:

- :func:`mask` for people: each value keeps only its shape (``20*****0970``), so an admin
  reading the review inbox sees that a RUC was given without seeing which;
- :func:`with_placeholders` for the training files: each value becomes one fixed, obviously
  invented example of the same kind and shape (``RUC_PLACEHOLDERS`` and the others below). A
  real value never reaches ``data/nlu`` (and so never git or the project zip), while the
  example still teaches what it should: an eleven-digit RUC with a valid check digit and the
  same prefix (10, 15, 17 or 20: natural person or company), eight digits for a DNI, a Peruvian
  mobile number, an e-mail address. Near duplicates that differ only in such a value become
  one example.

Standard library only.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_RUC = re.compile(r"(?<!\d)(?:10|15|17|20)(?:[ .-]?\d){9}(?!\d)")
_PHONE = re.compile(r"(?<!\d)(?:\+?51[ -]?)?9\d{2}[ -]?\d{3}[ -]?\d{3}(?!\d)")
_DNI = re.compile(r"(?<!\d)\d{8}(?!\d)")

#: The invented RUC each real one becomes in the training files, by prefix (natural person or
#: company); each has a valid check digit, so it reads as a RUC to the NLU and the validator.
RUC_PLACEHOLDERS = {
    "10": "10123456781",
    "15": "15123456782",
    "17": "17123456785",
    "20": "20123456786",
}
DNI_PLACEHOLDER = "12345678"
PHONE_PLACEHOLDER = "987654321"
EMAIL_PLACEHOLDER = "correo@ejemplo.com"


def mask(text: str) -> str:
    """Personal data out of sight: e-mails, RUCs, phones and DNIs keep only their shape."""
    text = _EMAIL.sub(lambda m: m.group()[0] + "***@***", text)
    text = _RUC.sub(lambda m: m.group()[:2] + "*" * 5 + m.group()[-4:], text)
    text = _PHONE.sub(lambda m: "9** *** " + re.sub(r"\D", "", m.group())[-3:], text)
    return _DNI.sub(lambda m: "*" * 5 + m.group()[-3:], text)


def with_placeholders(text: str) -> str:
    """The text with every RUC, DNI, phone number and e-mail address replaced by the fixed
    example of its kind (:data:`RUC_PLACEHOLDERS` and the others)."""
    text = _EMAIL.sub(EMAIL_PLACEHOLDER, text)
    text = _RUC.sub(lambda m: RUC_PLACEHOLDERS[m.group()[:2]], text)
    text = _PHONE.sub(PHONE_PLACEHOLDER, text)
    return _DNI.sub(DNI_PLACEHOLDER, text)
