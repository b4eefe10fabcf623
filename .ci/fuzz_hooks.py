"""Schemathesis hooks for .ci/contract-fuzz: the fuzzing user's bearer token, fetched by
logging in and fetched again whenever a request answers 401.

The API lets a user end their own sessions (DELETE /auth/sessions/{id}, reached through the
document's links), and the fuzzer does: with one fixed token, every later request would be
401 and most operations would go untested. A fresh sign-in after a 401 keeps them reachable.
"""

import json
import os
import urllib.request

import schemathesis


@schemathesis.auth(refresh_interval=600, retry_on=[401])
class SignIn:
    def get(self, case, context):
        body = json.dumps(
            {"email": os.environ["FUZZ_EMAIL"], "password": os.environ["FUZZ_PASSWORD"]}
        ).encode()
        request = urllib.request.Request(
            os.environ["FUZZ_BASE"] + "/auth/login",
            data=body,
            headers={"content-type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)["access_token"]

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
