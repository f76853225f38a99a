from zpanel.service import run
from zpanel_proxy_sync.worker import setup

run("proxy-sync", setup)
