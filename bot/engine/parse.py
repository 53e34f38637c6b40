"""Parse messages with a trained model, offline (runs in the engine environment, .venv-rasa).

    python -m bot.engine.parse MODEL RANKINGS.json < texts.json

Reads a JSON list of texts; writes to RANKINGS.json (Rasa prints to stdout) a JSON list with,
for each, the intent ranking as Rasa returns it (``[[name, confidence], …]``, best first,
``nlu_fallback`` included when the FallbackClassifier fired). Used by
``python -m bot evaluate-answers`` to replay the engine's decisions on a held-out set
without running the servers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import List, Tuple


async def rankings(model: str, texts: List[str]) -> List[List[Tuple[str, float]]]:
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    out = []
    for text in texts:
        parsed = await agent.parse_message(text)
        ranking = parsed.get("intent_ranking") or [parsed.get("intent") or {}]
        out.append([(str(r.get("name")), float(r.get("confidence") or 0.0)) for r in ranking])
    return out


def main() -> None:
    logging.disable(logging.WARNING)
    texts = json.load(sys.stdin)
    result = asyncio.run(rankings(sys.argv[1], texts))
    with open(sys.argv[2], "w", encoding="utf-8") as out:
        json.dump(result, out)


if __name__ == "__main__":
    main()
