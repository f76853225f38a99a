"""``python -m zpanel_webhook_gateway``: the gateway service (see worker.py)."""

from zpanel.service import run
from zpanel_webhook_gateway.worker import setup

if __name__ == "__main__":
    run("webhook-gateway", setup)
