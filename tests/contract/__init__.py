"""The contract layer: generated backends started as real HTTPS servers, tested over the wire.

`servers.py` builds and starts them (the harness), `client.py` is the only
thing the tests talk through (an HTTP client, nothing from the generated
code), and the `test_*.py` modules hold one test per rule of API.md.
"""
