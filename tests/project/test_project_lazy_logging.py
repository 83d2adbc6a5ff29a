"""``xapictl._log.logger``: the library's loggers load ``logging`` only when a record can be
wanted, and then behave as ``logging.getLogger``'s (issue 12: a run that logs nothing at
WARNING or above never imports it)."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from xapictl._log import logger

CHILD = """
import sys
from xapictl._log import logger
log = logger("xapictl.test")
log.debug("quiet %s", 1)
log.info("quiet too")
print("loaded after info:", "logging" in sys.modules)
log.warning("loud %s", 2)
print("loaded after warning:", "logging" in sys.modules)
"""


def test_debug_and_info_cost_nothing_until_logging_is_loaded_and_a_warning_loads_it() -> None:
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.splitlines() == ["loaded after info: False",
                                        "loaded after warning: True"]
    # logging's last resort handler prints a warning nobody configured a handler for
    assert done.stderr.strip() == "loud 2"


def test_once_logging_is_loaded_every_record_reaches_the_real_logger(
        caplog: pytest.LogCaptureFixture) -> None:
    log = logger("xapictl.test.loaded")
    with caplog.at_level(logging.DEBUG, logger="xapictl.test.loaded"):
        log.debug("attempt %d", 1)
        log.info("logging in to %s", "pool")
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        ("xapictl.test.loaded", "DEBUG", "attempt 1"),
        ("xapictl.test.loaded", "INFO", "logging in to pool")]
    assert log.isEnabledFor(logging.DEBUG) is logging.getLogger(
        "xapictl.test.loaded").isEnabledFor(logging.DEBUG)
