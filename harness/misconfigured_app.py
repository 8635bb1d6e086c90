"""The Greenhouse app with settings overridden from GREENHOUSE_TEST_CONF (JSON)."""

import json
import os

from tasks.app import app

app.conf.update(json.loads(os.environ["GREENHOUSE_TEST_CONF"]))

__all__ = ["app"]
