"""The regulation flow as a hub feature: calls, dossiers, queues and OSNP tasks.

``protocol`` holds its intents, ``handlers`` the handler of each, ``hub`` plugs them
into the kernel (app.hub) as an extension, and ``service`` gives a kernel service with
the flow installed (for tools and tests that drive the flow without a hub).
"""
