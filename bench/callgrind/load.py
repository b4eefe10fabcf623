"""Drives one workload on one keep-alive connection for bench/callgrind/count.

`load.py PORT setup STATE` registers a user and creates 50 public projects, each with 2 open
tickets and 3 posts (the project ids go to STATE); `load.py PORT run STATE WORKLOAD N` sends N
requests of WORKLOAD and fails on any wrong answer:
  w1      GET /api/v1/projects/{id}
  w1gql   POST /graphql, bench's W1 document (`project(id)` with `owner { id }`)
  w3      POST /graphql, bench's W3 overview (`projects(first: 50)` with owner, counts, posts)
  replay  POST /api/v1/projects signed in, one Idempotency-Key: replays after the first
"""
import http.client
import json
import sys

port, mode, state = int(sys.argv[1]), sys.argv[2], sys.argv[3]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

# The same documents as bench/src/workloads.rs (GET_PROJECT, overview_query(50)).
W1_GQL = (
    "query GetProject($id: ID!) { project(id: $id) { ...P } } fragment P on Project { id owner { id }"
    " name description visibility createdAt updatedAt version }"
)
W3 = (
    "{ projects(first: 50) { nodes { id name owner { id displayName } openTicketCount postCount"
    " latestPosts { id title createdAt } } } }"
)


def request(method, path, body=None, token=None, key=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = "Bearer " + token
    if key:
        headers["idempotency-key"] = key
    conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    res = conn.getresponse()
    return res.status, res.read()


def created(status, body, what):
    if status != 201:
        sys.exit(f"{what}: {status} {body[:200]!r}")
    return json.loads(body)["id"]


def setup():
    user = {"email": "cg@example.com", "password": "a long password 1"}
    request("POST", "/api/v1/auth/register", {**user, "display_name": "CG"})
    status, body = request("POST", "/api/v1/auth/login", user)
    token = json.loads(body)["access_token"]
    ids = []
    for n in range(50):
        project = {"name": f"cg {n}", "description": "d", "visibility": "public"}
        pid = created(*request("POST", "/api/v1/projects", project, token), "project")
        for t in range(2):
            ticket = {"subject": f"t{t}", "body": "b", "project_id": pid}
            created(*request("POST", "/api/v1/support/tickets", ticket, token), "ticket")
        for p in range(3):
            post = {"title": f"p{p}", "body": "b", "project_id": pid}
            created(*request("POST", "/api/v1/community/posts", post, token), "post")
        ids.append(pid)
    open(state, "w").write("\n".join([token] + ids))


def run(workload, count):
    token, *ids = open(state).read().split()
    bad = 0
    for i in range(count):
        pid = ids[i % len(ids)]
        if workload == "replay":
            project = {"name": "cg replayed", "description": "d", "visibility": "public"}
            status, body = request("POST", "/api/v1/projects", project, token, "cg-replay")
            ok = status == 201
        elif workload == "w1":
            status, body = request("GET", "/api/v1/projects/" + pid)
            ok = status == 200
        else:
            doc = {"query": W1_GQL, "variables": {"id": pid}} if workload == "w1gql" else {"query": W3}
            status, body = request("POST", "/graphql", doc)
            ok = status == 200 and "errors" not in json.loads(body)
            if ok and workload == "w3":
                ok = len(json.loads(body)["data"]["projects"]["nodes"]) == 50
        bad += not ok
    if bad:
        sys.exit(f"{bad} of {count} answers were wrong")


if mode == "setup":
    setup()
else:
    run(sys.argv[4], int(sys.argv[5]))
