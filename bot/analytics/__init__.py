"""Analytics from Rasa's own events: what citizens asked (intents, and how often the engine was
unsure), what the assistant did (actions) and how many conversation sessions began, per day in
Lima.

Rasa publishes every event of every conversation to RabbitMQ (``event_broker`` in
endpoints.scale.yml); ``python -m bot consume-events`` reads them (:mod:`.consumer`), reads
each one's meaning (:mod:`.events`) and adds it to the daily counts in the gateway database
(:mod:`.store`, tables in :mod:`.tables`), each event once however often it is delivered.
"""
