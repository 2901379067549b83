import logging

import pytest

pytest_plugins = ["sidegears.testing"]

# Loggers whose levels set_debug() / set_basic_logging() and some tests change.
_LOGGERS = ("sidegears", "sidegears.websockets")


@pytest.fixture(autouse=True)
def restore_logger_levels():
    """Each test starts from the logging levels the previous one found.

    set_debug(True) lowers the sidegears loggers to DEBUG for the whole
    process (as it should in an app); left that way, later tests would log
    every websocket frame and measure that instead of the kernel.
    """
    saved = {name: logging.getLogger(name).level for name in _LOGGERS}
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)
