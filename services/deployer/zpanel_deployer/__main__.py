from zpanel.service import run
from zpanel_deployer.worker import setup

run("deployer", setup)
