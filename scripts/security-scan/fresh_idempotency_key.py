#!/usr/bin/env python
# sqlmap tamper script for `npm run security:scan`: every payload request gets a fresh
# Idempotency-Key, or the gateway would (rightly) answer each changed body with 422
# idempotency_key_reused and the payload would never reach the code under test.
import uuid

from lib.core.enums import PRIORITY

__priority__ = PRIORITY.NORMAL


def dependencies():
    pass


def tamper(payload, **kwargs):
    headers = kwargs.get("headers", {})
    headers["Idempotency-Key"] = str(uuid.uuid4())
    return payload
