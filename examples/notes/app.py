#!/usr/bin/env python3
"""notes: the demo's second scenario. Reads its API key from the secret the broker released
(/run/secrets/api-key), appends a line to a file on its encrypted volume (/data), fsyncs it, and
prints every line so far: a second run sees the first run's line. It prints only a fingerprint of
the key, never the key."""
import hashlib
import os
import sys

SECRET = "/run/secrets/api-key"
NOTES = "/data/notes.txt"

try:
    with open(SECRET, "rb") as f:
        key = f.read()
except OSError as error:
    sys.exit(f"notes: no API key: {error}")

with open(NOTES, "a", encoding="utf-8") as f:
    count = sum(1 for _ in open(NOTES, encoding="utf-8")) if os.path.getsize(NOTES) else 0
    f.write(f"run {count + 1}: authorised by key sha256:{hashlib.sha256(key).hexdigest()[:16]}\n")
    f.flush()
    os.fsync(f.fileno())

with open(NOTES, encoding="utf-8") as f:
    sys.stdout.write(f.read())
