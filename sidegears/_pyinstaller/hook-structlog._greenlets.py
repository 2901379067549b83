"""structlog's greenlet support (for its deprecated threadlocal module) would pull in greenlet
wherever it is installed (Playwright, a test tool, installs it). Leave it out; an app that uses
greenlets imports greenlet itself, and then it is bundled."""

excludedimports = ["greenlet"]
