"""spaCy loader for Rasa that loads only the components the features use.

Rasa's own ``SpacyNLP`` loads the whole pipeline except the parser. Here the features decide:
``lemmas: true`` keeps what the lemmatizer needs (tok2vec and morphologizer for POS tags) and
drops the parser, the named-entity recogniser and the sentence recogniser; ``lemmas: false``
keeps spaCy's Spanish tokenizer alone. The class keeps the name ``SpacyNLP`` because Rasa's
tokenizer and featurizers find their model provider by that class name.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

import spacy
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.utils import spacy_utils
from rasa.shared.exceptions import InvalidConfigException

from bot.engine import action_validation, circuit_breaker

# Rasa imports this module when it loads the pipeline: the one place where code of ours runs in
# its process before the first message.
action_validation.install()
circuit_breaker.install()

#: Not needed for tokens and lemmas.
NOT_FOR_LEMMAS: List[Text] = ["parser", "ner", "senter"]
#: Everything but the tokenizer (which is not a pipeline component).
NOT_FOR_TOKENS: List[Text] = [
    "tok2vec", "morphologizer", "attribute_ruler", "lemmatizer", *NOT_FOR_LEMMAS,
]  # fmt: skip


class SpacyModel(spacy_utils.SpacyModel):
    def fingerprint(self) -> Text:
        # The loaded components change the tokens' lemmas, so they are part of the identity
        # Rasa's training cache sees.
        return f"{self.model_name}[{'+'.join(self.model.pipe_names)}]"


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.MODEL_LOADER,
        DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER,
    ],
    is_trainable=False,
    model_from="SpacyNLP",
)
class SpacyNLP(spacy_utils.SpacyNLP):
    """``SpacyNLP`` that loads only what the configured features need."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**spacy_utils.SpacyNLP.get_default_config(), "lemmas": True}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SpacyNLP:
        config = {**cls.get_default_config(), **config}
        name = config.get("model")
        if not name:
            raise InvalidConfigException("SpacyNLP needs a 'model', e.g. es_core_news_sm")
        excluded = NOT_FOR_LEMMAS if config["lemmas"] else NOT_FOR_TOKENS
        try:
            language = spacy.load(name, exclude=excluded)
        except OSError as exc:
            raise InvalidConfigException(
                f"spaCy model '{name}' is not installed in the engine environment "
                f"(it comes from requirements/engine.lock): {exc}"
            ) from exc
        return cls(SpacyModel(model=language, model_name=name), config)
