"""pydantic v1's plugin for Hypothesis (a test library): collected with every pydantic module, it
would pull Hypothesis into an app wherever Hypothesis is installed. Leave it out."""

excludedimports = ["hypothesis"]
