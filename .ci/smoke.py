#!/usr/bin/env python3
"""Walks the main flows of a running NeoForge server over real HTTP, as a client would.

Used by .ci/smoke, which starts the release binary and stops it afterwards:

    python3 .ci/smoke.py --base http://127.0.0.1:PORT --staff-email E --staff-password P [--break STEP]

Prints one line per step; on the first deviation prints `FAILED step <name>: <why>` and exits 1.
`--break STEP` perturbs that step's request the way a regression would (a wrong ETag, a lost
idempotency key, ...) so the self-test can show that the step is named when it fails.
Standard library only, except `websockets` for the graphql-transport-ws subscription.
"""

import argparse
import http.client
import json
import re
import sys
import time
import uuid
from urllib.parse import urlsplit

# The walker's own steps, in order. .ci/smoke adds the ones around the process (ready, shutdown, log).
STEPS = [
    "register",
    "login",
    "create-project",
    "idempotent-retry",
    "list-projects",
    "revalidate-304",
    "conditional-patch",
    "stale-patch-412",
    "ticket",
    "post",
    "status-event",
    "status",
    "graphql-query",
    "subscription",
    "metrics",
]


class StepFailed(Exception):
    pass


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError as err:
            raise StepFailed(f"body is not JSON ({err}): {self.body[:200]!r}") from err


class Client:
    def __init__(self, base):
        parts = urlsplit(base)
        self.host = parts.hostname
        self.port = parts.port
        self.token = None

    def request(self, method, path, body=None, headers=None, token=True):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        sent = {"accept": "application/json"}
        if body is not None:
            sent["content-type"] = "application/json"
        if token and self.token:
            sent["authorization"] = f"Bearer {self.token}"
        sent.update(headers or {})
        data = json.dumps(body).encode() if body is not None else None
        try:
            conn.request(method, path, body=data, headers=sent)
            raw = conn.getresponse()
            got = Response(
                raw.status, {k.lower(): v for k, v in raw.getheaders()}, raw.read()
            )
        except OSError as err:
            raise StepFailed(f"{method} {path}: {err}") from err
        finally:
            conn.close()
        return got


def expect_status(response, expected, what):
    if response.status != expected:
        raise StepFailed(
            f"{what}: expected {expected}, got {response.status}: {response.body[:300]!r}"
        )


def expect(condition, message):
    if not condition:
        raise StepFailed(message)


class Walk:
    def __init__(self, base, staff_email, staff_password, broken):
        self.base = base
        self.api = Client(base)
        self.staff = Client(base)
        self.staff_email = staff_email
        self.staff_password = staff_password
        self.broken = broken
        # Unique per run so a walk can be repeated against the same database by hand.
        self.email = f"smoke-{uuid.uuid4().hex[:12]}@example.com"
        self.password = "smoke password"
        self.project = None
        self.etag = None

    def breaks(self, step):
        return self.broken == step

    # -- accounts ---------------------------------------------------------------------------

    def register(self):
        password = "short" if self.breaks("register") else self.password
        r = self.api.request(
            "POST",
            "/api/v1/auth/register",
            {"email": self.email, "password": password, "display_name": "Smoke"},
        )
        expect_status(r, 201, "POST /auth/register")
        expect(r.json()["email"] == self.email, f"registered user: {r.body!r}")

    def login(self):
        password = "wrong password" if self.breaks("login") else self.password
        r = self.api.request(
            "POST", "/api/v1/auth/login", {"email": self.email, "password": password}
        )
        expect_status(r, 200, "POST /auth/login")
        self.api.token = r.json().get("access_token")
        expect(self.api.token, f"no access_token: {r.body!r}")
        me = self.api.request("GET", "/api/v1/auth/me")
        expect_status(me, 200, "GET /auth/me")
        # The staff account was created with the CLI before the server started.
        r = self.staff.request(
            "POST",
            "/api/v1/auth/login",
            {"email": self.staff_email, "password": self.staff_password},
        )
        expect_status(r, 200, "POST /auth/login (staff)")
        self.staff.token = r.json()["access_token"]

    # -- projects: idempotency and conditional requests ---------------------------------------

    def create_project(self):
        self.key = f"smoke-{uuid.uuid4()}"
        visibility = "hidden" if self.breaks("create-project") else "public"
        self.project_body = {"name": "Smoke", "visibility": visibility}
        r = self.api.request(
            "POST",
            "/api/v1/projects",
            self.project_body,
            {"idempotency-key": self.key},
        )
        expect_status(r, 201, "POST /projects")
        expect(r.header("location"), "201 without Location")
        expect(r.header("etag"), "201 without ETag")
        self.created = r
        self.project = r.json()["id"]
        self.etag = r.header("etag")

    def idempotent_retry(self):
        key = "another-key" if self.breaks("idempotent-retry") else self.key
        r = self.api.request(
            "POST", "/api/v1/projects", self.project_body, {"idempotency-key": key}
        )
        expect_status(r, 201, "retried POST /projects")
        expect(
            r.header("idempotent-replayed") == "true",
            f"retry not replayed (Idempotent-Replayed: {r.header('idempotent-replayed')!r})",
        )
        expect(r.body == self.created.body, "replayed body differs from the first answer")
        expect(r.header("location") == self.created.header("location"), "replayed Location differs")

    def list_projects(self):
        # Broken: a filter that matches nothing, as if the create had not been committed.
        query = "&q=absent" if self.breaks("list-projects") else ""
        r = self.api.request("GET", f"/api/v1/projects?page=1&page_size=20{query}")
        expect_status(r, 200, "GET /projects")
        page = r.json()
        expect(page.get("total") == 1, f"one project after a create and its replay: {page}")
        expect(r.header("etag"), "list without ETag")
        self.list_etag = r.header("etag")

    def revalidate_304(self):
        etag = '"stale"' if self.breaks("revalidate-304") else self.list_etag
        r = self.api.request(
            "GET", "/api/v1/projects?page=1&page_size=20", headers={"if-none-match": etag}
        )
        expect_status(r, 304, "GET /projects with If-None-Match")
        expect(r.body == b"", "304 with a body")
        one = self.api.request(
            "GET", f"/api/v1/projects/{self.project}", headers={"if-none-match": self.etag}
        )
        expect_status(one, 304, "GET /projects/{id} with If-None-Match")

    def conditional_patch(self):
        etag = self.etag.replace("-v1", "-v7") if self.breaks("conditional-patch") else self.etag
        r = self.api.request(
            "PATCH",
            f"/api/v1/projects/{self.project}",
            {"description": "patched by the smoke test"},
            {"if-match": etag},
        )
        expect_status(r, 200, "PATCH /projects/{id} with If-Match")
        expect(r.json()["version"] == 2, f"version after one PATCH: {r.body!r}")
        expect(r.header("etag") != self.etag, "PATCH kept the old ETag")
        self.stale = self.etag
        self.etag = r.header("etag")

    def stale_patch_412(self):
        etag = self.etag if self.breaks("stale-patch-412") else self.stale
        r = self.api.request(
            "PATCH",
            f"/api/v1/projects/{self.project}",
            {"description": "lost update"},
            {"if-match": etag},
        )
        expect_status(r, 412, "PATCH with a stale If-Match")
        expect(
            (r.header("content-type") or "").startswith("application/problem+json"),
            f"412 is not problem+json: {r.header('content-type')}",
        )

    # -- tickets, posts, status -------------------------------------------------------------

    def ticket(self):
        body = {"subject": "Smoke", "body": "It smokes", "project_id": self.project}
        if self.breaks("ticket"):
            body["priority"] = "whenever"
        r = self.api.request("POST", "/api/v1/support/tickets", body)
        expect_status(r, 201, "POST /support/tickets")
        ticket = r.json()
        one = self.api.request("GET", f"/api/v1/support/tickets/{ticket['id']}")
        expect_status(one, 200, "GET /support/tickets/{id}")
        expect(one.json()["status"] == "open", f"a new ticket is open: {one.body!r}")

    def post(self):
        body = {"title": "Smoke", "body": "Where there is smoke", "tags": ["smoke"]}
        if self.breaks("post"):
            body["tags"] = "smoke"
        r = self.api.request("POST", "/api/v1/community/posts", body)
        expect_status(r, 201, "POST /community/posts")
        listed = self.api.request("GET", "/api/v1/community/posts?tag=smoke", token=False)
        expect_status(listed, 200, "GET /community/posts?tag=smoke")
        expect(listed.json()["total"] == 1, f"the post is listed: {listed.body!r}")

    def record_event(self, service, status, message, client=None):
        r = (client or self.staff).request(
            "POST",
            "/api/v1/status/events",
            {"service": service, "status": status, "message": message},
        )
        expect_status(r, 201, "POST /status/events")
        return r.json()

    def status_event(self):
        # A plain user may not record events: breaking the step records as one.
        client = self.api if self.breaks("status-event") else self.staff
        self.record_event("api", "degraded", "smoke", client)

    def status(self):
        r = self.api.request("GET", "/api/v1/status", token=False)
        expect_status(r, 200, "GET /status")
        overall = r.json()["overall"]
        wanted = "operational" if self.breaks("status") else "degraded"
        expect(overall == wanted, f"overall is {overall!r} after a degraded event, want {wanted!r}")

    # -- GraphQL ----------------------------------------------------------------------------

    def graphql_query(self):
        field = "nme" if self.breaks("graphql-query") else "name"
        query = f"{{ viewer {{ email }} projects(first: 5) {{ totalCount nodes {{ id {field} version }} }} }}"
        r = self.api.request("POST", "/graphql", {"query": query})
        expect_status(r, 200, "POST /graphql")
        body = r.json()
        expect("errors" not in body, f"GraphQL errors: {body.get('errors')}")
        data = body["data"]
        expect(data["viewer"]["email"] == self.email, f"viewer: {data['viewer']}")
        expect(data["projects"]["totalCount"] == 1, f"projects: {data['projects']}")
        expect(data["projects"]["nodes"][0]["version"] == 2, f"projects: {data['projects']}")

    def subscription(self):
        try:
            from websockets.sync.client import connect
        except ImportError as err:
            raise StepFailed("python3 lacks the websockets package (pip install websockets)") from err
        service = "db" if self.breaks("subscription") else "api"
        url = self.base.replace("http://", "ws://", 1) + "/graphql/ws"
        try:
            with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=5) as ws:
                expect(ws.subprotocol == "graphql-transport-ws", f"subprotocol {ws.subprotocol!r}")
                ws.send(json.dumps({"type": "connection_init", "payload": {}}))
                ack = json.loads(ws.recv(timeout=5))
                expect(ack.get("type") == "connection_ack", f"no connection_ack: {ack}")
                ws.send(
                    json.dumps(
                        {
                            "id": "s1",
                            "type": "subscribe",
                            "payload": {
                                "query": "subscription($s: String) { statusChanged(service: $s) { id service status message } }",
                                "variables": {"s": service},
                            },
                        }
                    )
                )
                # The server registers the subscription asynchronously after `subscribe`: record
                # events until one arrives (or give up after a few seconds).
                deadline = time.monotonic() + 8
                sent = set()
                while time.monotonic() < deadline:
                    sent.add(self.record_event("api", "maintenance", "smoke probe")["id"])
                    try:
                        message = json.loads(ws.recv(timeout=0.3))
                    except TimeoutError:
                        continue
                    expect(message.get("type") == "next", f"unexpected message: {message}")
                    event = message["payload"]["data"]["statusChanged"]
                    expect(event["id"] in sent, f"an event nobody recorded: {event}")
                    expect(event["status"] == "MAINTENANCE", f"event: {event}")
                    ws.send(json.dumps({"id": "s1", "type": "complete"}))
                    return
                raise StepFailed("no statusChanged event arrived within 8 s")
        except (OSError, TimeoutError) as err:
            raise StepFailed(f"websocket: {err!r}") from err
        except Exception as err:  # websockets' own errors (handshake, closed connection)
            if isinstance(err, StepFailed):
                raise
            raise StepFailed(f"websocket: {err!r}") from err

    def metrics(self):
        r = self.api.request("GET", "/metrics", token=False)
        expect_status(r, 200, "GET /metrics")
        text = r.body.decode()
        if self.breaks("metrics"):
            text += "http_requests_total{oops 1\n"
        samples = parse_prometheus(text)
        names = {name for name, _ in samples}
        for wanted in ("http_requests_total", "http_request_duration_seconds_bucket"):
            expect(wanted in names, f"/metrics lacks {wanted}")
        served = sum(v for n, v in samples if n == "http_requests_total")
        expect(served >= 10, f"http_requests_total sums to {served} after the walk")


SAMPLE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)'  # metric name
    r'(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"(?:,|(?=\})))*\})?'  # labels
    r' ([-+]?(?:[0-9.]+(?:[eE][-+]?[0-9]+)?|NaN|Inf))'  # value
    r'( -?[0-9]+)?$'  # timestamp
)


def parse_prometheus(text):
    """The Prometheus text exposition format, strictly: every line a comment or a sample."""
    samples = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line or line.startswith("#"):
            if line.startswith("# TYPE "):
                expect(
                    line.split()[-1] in ("counter", "gauge", "histogram", "summary", "untyped"),
                    f"/metrics line {number}: bad TYPE: {line!r}",
                )
            continue
        m = SAMPLE.match(line)
        expect(m, f"/metrics line {number} does not parse: {line!r}")
        samples.append((m.group(1), float(m.group(3))))
    expect(samples, "/metrics has no samples")
    return samples


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--staff-email", required=True)
    parser.add_argument("--staff-password", required=True)
    parser.add_argument("--break", dest="broken", choices=STEPS)
    parser.add_argument("--list", action="store_true", help="print the steps and exit")
    args = parser.parse_args()
    if args.list:
        print("\n".join(STEPS))
        return 0
    walk = Walk(args.base, args.staff_email, args.staff_password, args.broken)
    for step in STEPS:
        started = time.monotonic()
        try:
            getattr(walk, step.replace("-", "_"))()
        except StepFailed as err:
            print(f"FAILED step {step}: {err}", flush=True)
            return 1
        except Exception as err:  # a malformed answer (missing member, wrong type)
            print(f"FAILED step {step}: {type(err).__name__}: {err}", flush=True)
            return 1
        print(f"  ok  {step:<18} {(time.monotonic() - started) * 1000:6.0f} ms", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
