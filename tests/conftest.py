pytest_plugins = ["sidegears.testing"]
