"""Rasa pipeline component: what the citizen says about their business, as entities.

Amounts as people write them ("7 mil", "unos 3k", "medio millón"), "nada"/"solo yo", the
activity, a valid RUC and the regime the citizen is in, found by
:func:`bot.knowledge.tax.regime_advisor.business_facts`. The slot mappings in domain.yml decide
which slot each entity fills (with ``requested_slot`` conditions for bare answers), so Rasa fills
the advisor's slots in its own process, without a call to the action server on every message.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_ROLE,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.knowledge.tax.regime_advisor import Fact, business_facts


def entity(fact: Fact) -> Dict[Text, Any]:
    """A fact in the shape of Rasa's entities."""
    found: Dict[Text, Any] = {
        ENTITY_ATTRIBUTE_TYPE: fact.entity,
        ENTITY_ATTRIBUTE_VALUE: fact.value,
        ENTITY_ATTRIBUTE_START: fact.start,
        ENTITY_ATTRIBUTE_END: fact.end,
    }
    if fact.role is not None:
        found[ENTITY_ATTRIBUTE_ROLE] = fact.role
    return found


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class BusinessFactsExtractor(GraphComponent, EntityExtractorMixin):
    """Adds the business facts in each message to its entities."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> BusinessFactsExtractor:
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            found = self.add_extractor_name([entity(f) for f in business_facts(text)])
            message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # Nothing to learn: the training examples keep the entities they are annotated with.
        return training_data
