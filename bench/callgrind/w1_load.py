"""Drives W1 (GET /api/v1/projects/{id}) on one keep-alive connection for bench/callgrind/w1.

`w1_load.py PORT setup STATE` registers a user and creates a public project (its id goes to
STATE); `w1_load.py PORT run STATE N` sends N GETs and fails on any non-200.
"""
import http.client
import json
import sys

port, mode, state = int(sys.argv[1]), sys.argv[2], sys.argv[3]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)


def request(method, path, body=None, token=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = "Bearer " + token
    conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    res = conn.getresponse()
    return res.status, res.read()


if mode == "setup":
    user = {"email": "cg@example.com", "password": "a long password 1"}
    request("POST", "/api/v1/auth/register", {**user, "display_name": "CG"})
    status, body = request("POST", "/api/v1/auth/login", user)
    token = json.loads(body)["access_token"]
    project = {"name": "cg", "description": "d", "visibility": "public"}
    status, body = request("POST", "/api/v1/projects", project, token)
    if status != 201:
        sys.exit(f"create: {status} {body[:200]!r}")
    open(state, "w").write(json.loads(body)["id"])
else:
    pid = open(state).read()
    bad = sum(request("GET", "/api/v1/projects/" + pid)[0] != 200 for _ in range(int(sys.argv[4])))
    if bad:
        sys.exit(f"{bad} answers were not 200")
