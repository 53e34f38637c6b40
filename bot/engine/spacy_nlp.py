"""spaCy loader for Rasa that loads only the components the features use.

Rasa's own ``SpacyNLP`` loads the whole pipeline except the parser. The NLU features here
use tokens and lemmas only; the lemmatizer needs the morphologizer's POS tags, so the
parser, the named-entity recogniser and the sentence recogniser are excluded (about half
the cost a message). The class keeps the name ``SpacyNLP`` because Rasa's tokenizer and
featurizer find their model provider by that class name.
"""

from __future__ import annotations

from typing import List, Text

import spacy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.utils import spacy_utils
from rasa.shared.exceptions import InvalidConfigException

#: Pipeline components not needed for tokens and lemmas.
EXCLUDED_COMPONENTS: List[Text] = ["parser", "ner", "senter"]


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.MODEL_LOADER,
        DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER,
    ],
    is_trainable=False,
    model_from="SpacyNLP",
)
class SpacyNLP(spacy_utils.SpacyNLP):
    """``SpacyNLP`` loading the pipeline without parser, NER and sentence recogniser."""

    @staticmethod
    def load_model(spacy_model_name: Text) -> spacy_utils.SpacyModel:
        if not spacy_model_name:
            raise InvalidConfigException("SpacyNLP needs a 'model', e.g. es_core_news_sm")
        try:
            language = spacy.load(spacy_model_name, exclude=EXCLUDED_COMPONENTS)
        except OSError as exc:
            raise InvalidConfigException(
                f"spaCy model '{spacy_model_name}' is not installed in the engine "
                f"environment (it comes from requirements/engine.lock): {exc}"
            ) from exc
        return spacy_utils.SpacyModel(model=language, model_name=spacy_model_name)
