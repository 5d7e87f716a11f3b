"""One controller per panel: each turns its panel's requests into intents and
subscribes, by name, to the hub events it shows (``EventBus``)."""
