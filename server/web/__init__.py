"""The Starlette application: lifespan, HTML pages, the websocket endpoint, the
producer's token administration and the traceability page."""
