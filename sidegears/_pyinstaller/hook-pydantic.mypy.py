"""pydantic's plugin for mypy: the pydantic hook collects every pydantic module, and this one
would pull in mypy (megabytes of a type checker) wherever mypy is installed. A frozen app never
type-checks: leave mypy out."""

excludedimports = ["mypy"]
