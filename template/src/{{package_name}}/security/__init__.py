"""Framework-free security primitives.

Nothing here imports a web framework: the FastAPI (or Django) adapters call
these functions, so that each rule is written and tested exactly once.
"""
