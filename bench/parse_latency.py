"""Per-message NLU parse latency of a model (runs in the engine environment, .venv-rasa).

Usage: parse_latency.py MODEL HELDOUT_YML  → prints JSON {"p50_ms", "p95_ms", "mean_ms", "n"}
"""

import asyncio
import json
import logging
import statistics
import sys
import time

import yaml
from rasa.core.agent import Agent


def main() -> None:
    logging.disable(logging.WARNING)
    model, heldout = sys.argv[1], sys.argv[2]
    with open(heldout, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    texts = [
        line[2:].strip()
        for block in data["nlu"]
        for line in block["examples"].splitlines()
        if line.startswith("- ")
    ]
    agent = Agent.load(model)
    loop = asyncio.new_event_loop()
    for text in texts[:20]:  # warm-up
        loop.run_until_complete(agent.parse_message(text))
    timings = []
    for _ in range(3):
        for text in texts:
            start = time.perf_counter()
            loop.run_until_complete(agent.parse_message(text))
            timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    print(
        json.dumps(
            {
                "p50_ms": statistics.median(timings),
                "p95_ms": timings[int(len(timings) * 0.95)],
                "mean_ms": statistics.mean(timings),
                "n": len(timings),
            }
        )
    )


if __name__ == "__main__":
    main()
