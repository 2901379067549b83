"""pydantic v1's plugin for mypy: as hook-pydantic.mypy.py, leave mypy out."""

excludedimports = ["mypy"]
