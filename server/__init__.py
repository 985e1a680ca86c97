"""clinitrack service: inventory and infection-control tracking for outpatient clinics."""

import os

# Piccolo finds its engine through this module name; setting it here means every
# entry point (CLI, ASGI app, tests) agrees without extra environment.
os.environ.setdefault("PICCOLO_CONF", "server.piccolo_conf")
