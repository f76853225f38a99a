from zpanel.service import run
from zpanel_builder.worker import setup

run("builder", setup)
