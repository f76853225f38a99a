"""Whatever arrives, a parser answers with a Parsed or a MalformedPayload, and a verifier with a
bool: never a KeyError, TypeError or anything that would become a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.gateway.helpers import FIXTURES, SECRET
from zpanel_webhook_gateway.matching import identity
from zpanel_webhook_gateway.providers import PROVIDERS, MalformedPayload, Parsed

EVENT_HEADERS = {
    "github": ("X-GitHub-Event", ["push", "pull_request", "ping", "star"]),
    "gitlab": ("X-Gitlab-Event", ["Push Hook", "Merge Request Hook", "Tag Push Hook"]),
    "bitbucket": (
        "X-Event-Key",
        ["repo:push", "pullrequest:created", "pullrequest:updated", "pullrequest:fulfilled", "repo:fork"],
    ),
    "gitea": ("X-Gitea-Event", ["push", "pull_request", "delete", "create", "issues"]),
}
REAL = {
    provider: [json.loads(p.read_bytes()) for p in sorted((FIXTURES / provider).glob("*.json"))]
    for provider in EVENT_HEADERS
}
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)


def parse_or_malformed(provider: str, headers: dict[str, str], raw: bytes) -> None:
    try:
        result = PROVIDERS[provider].parse(headers, raw)
    except MalformedPayload as exc:
        assert str(exc)
        return
    assert isinstance(result, Parsed)
    assert result.events or result.ignored


@st.composite
def requests(draw: st.DrawFn, body: st.SearchStrategy[bytes]) -> tuple[str, dict[str, str], bytes]:
    provider = draw(st.sampled_from(sorted(PROVIDERS)))
    name, values = EVENT_HEADERS[provider]
    headers = {name: draw(st.sampled_from(values)), "X-Gitlab-Token": SECRET}
    return provider, headers, draw(body)


@FUZZ
@given(requests(st.binary(max_size=300)))
def test_arbitrary_bytes(request: tuple[str, dict[str, str], bytes]) -> None:
    parse_or_malformed(*request)


@FUZZ
@given(requests(json_values.map(lambda v: json.dumps(v).encode())))
def test_arbitrary_json(request: tuple[str, dict[str, str], bytes]) -> None:
    parse_or_malformed(*request)


# Sub-objects no parser reads (people, links, labels): mutating inside them only costs time.
UNREAD = {
    "_links",
    "links",
    "owner",
    "user",
    "author",
    "committer",
    "assignee",
    "assignees",
    "labels",
    "requested_reviewers",
    "requested_teams",
    "reviewers",
    "milestone",
    "organization",
    "installation",
    "license",
    "permissions",
    "hook",
    "changes",
    "actor",
    "participants",
}


READ_AFTER_ALL = {("repository", "links"), ("push", "changes")}


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            if key in UNREAD and (*prefix[-1:], key) not in READ_AFTER_ALL:
                found.append((*prefix, key))  # replaced or removed whole, not explored
                continue
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value[:3]):
            found += _paths(child, (*prefix, i))
    return found


@st.composite
def mutated_real_payloads(draw: st.DrawFn) -> tuple[str, dict[str, str], bytes]:
    """A real payload with one field (anywhere, however deep) replaced by arbitrary JSON or removed:
    reaches the code paths that only well-formed payloads get to."""
    provider = draw(st.sampled_from(sorted(PROVIDERS)))
    doc = json.loads(json.dumps(draw(st.sampled_from(REAL[provider]))))
    path = draw(st.sampled_from(_paths(doc)))
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(json_values)
    name, values = EVENT_HEADERS[provider]
    return provider, {name: draw(st.sampled_from(values))}, json.dumps(doc).encode()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_real_payloads())
def test_mutated_real_payloads(request: tuple[str, dict[str, str], bytes]) -> None:
    parse_or_malformed(*request)


@FUZZ
@given(
    st.sampled_from(sorted(PROVIDERS)),
    st.dictionaries(
        st.sampled_from(
            [
                "X-Hub-Signature-256",
                "X-Hub-Signature",
                "X-Gitlab-Token",
                "X-Gitea-Signature",
                "webhook-signature",
                "webhook-id",
                "webhook-timestamp",
            ]
        ),
        st.text(max_size=80),
    ),
    st.binary(max_size=100),
    st.text(max_size=40),
)
def test_verify_always_answers_a_bool_and_never_accepts_garbage(
    provider: str, headers: dict[str, str], raw: bytes, secret: str
) -> None:
    assert PROVIDERS[provider].verify(headers, raw, secret) in (False, True)
    if provider != "gitlab":  # a GitLab token may legitimately be any text equal to the secret
        assert PROVIDERS[provider].verify(headers, raw, secret) is False


@FUZZ
@given(st.text(max_size=80))
def test_identity_never_raises(url: str) -> None:
    result = identity(url)
    assert result is None or result.path


SIGNATURE_HEADERS = [
    "X-Hub-Signature-256",
    "X-Hub-Signature",
    "X-Gitlab-Token",
    "X-Gitea-Signature",
    "webhook-signature",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(PROVIDERS)),
    st.data(),
    st.dictionaries(st.sampled_from(SIGNATURE_HEADERS), st.text(max_size=80), max_size=3),
)
def test_no_deployment_from_an_unsigned_request(provider: str, data: st.DataObject, forged: dict[str, str]) -> None:
    """Real payloads with made-up signature headers: never 202, whatever the apps (every repo URL
    of every fixture is registered, with the test secret)."""
    from tests.gateway.helpers import app
    from zpanel_webhook_gateway.webhooks import receive

    doc = data.draw(st.sampled_from(REAL[provider]))
    raw = json.dumps(doc).encode()
    name, values = EVENT_HEADERS[provider]
    headers = {name: data.draw(st.sampled_from(values))} | forged
    if forged.get("X-Gitlab-Token") == SECRET:
        return  # that is the secret itself: a signed request
    apps = [app(f"a{i}", url, branch=b) for i, url in enumerate(ALL_REPO_URLS) for b in ("master", "develop", "main")]
    outcome = receive(PROVIDERS[provider], headers, raw, apps, lambda a: a.webhook_secret)
    assert outcome.status in (200, 400, 401)
    assert outcome.queued == []


def _repo_urls() -> list[str]:
    urls = set()
    for provider, docs in REAL.items():
        name, values = EVENT_HEADERS[provider]
        for doc in docs:
            for value in values:
                try:
                    url = PROVIDERS[provider].parse({name: value}, json.dumps(doc).encode()).repo_url
                except MalformedPayload:
                    continue
                if url:
                    urls.add(url)
    return sorted(urls)


ALL_REPO_URLS = _repo_urls()


def test_every_fixture_names_its_repository() -> None:
    assert len(ALL_REPO_URLS) >= 8


ODD_VALUES: list[Any] = [None, 0, True, "", "x", [], {}]
_DELETE = object()

FIXTURE_FILES = [(provider, p.name) for provider in EVENT_HEADERS for p in sorted((FIXTURES / provider).glob("*.json"))]


def _own_event(provider: str, doc: dict[str, Any]) -> str:
    """The event header value this payload was sent with: the first one it parses as."""
    name, values = EVENT_HEADERS[provider]
    for value in values:
        try:
            parsed = PROVIDERS[provider].parse({name: value}, json.dumps(doc).encode())
        except MalformedPayload:
            continue
        if parsed.events or parsed.ignored[0].kind != "unsupported_event":
            return value
    return values[0]


@pytest.mark.parametrize(("provider", "fixture"), FIXTURE_FILES)
def test_every_field_of_a_real_payload_replaced_or_removed(provider: str, fixture: str) -> None:
    """Exhaustive where the random search is thin: each field the payload has (lists up to their
    third item) in turn removed or replaced by each odd value, under the payload's own event."""
    doc = json.loads((FIXTURES / provider / fixture).read_bytes())
    headers = {EVENT_HEADERS[provider][0]: _own_event(provider, doc)}
    for path in _paths(doc):
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        kept = parent[path[-1]]
        for odd in [_DELETE, *ODD_VALUES]:
            if odd is _DELETE:
                if not isinstance(parent, dict):
                    continue
                del parent[path[-1]]
            else:
                parent[path[-1]] = odd
            parse_or_malformed(provider, headers, json.dumps(doc).encode())
            parent[path[-1]] = kept  # restored in place (a re-inserted key moves last: harmless)
