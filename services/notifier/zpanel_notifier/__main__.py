from zpanel.service import run
from zpanel_notifier.worker import setup

run("notifier", setup)
