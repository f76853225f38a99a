from zpanel.service import run
from zpanel_health.worker import setup

run("health", setup)
