from __future__ import annotations

import pytest

from zpanel_notifier import signed
from zpanel_notifier.errors import TargetError
from zpanel_notifier.messages import NOTIFIABLE
from zpanel_notifier.targets import (
    Target,
    load_targets,
    parse_events,
    parse_target,
    parse_targets,
    prepare_spec,
    select,
)

SLACK = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#deploys"
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.mark.parametrize(
    "url",
    [
        SLACK,
        "mailto://user:pass@example.com?to=ops@example.com",
        "discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js",
        "tgram://123456789:ABCdefGHIjklMNOpqrSTUvwxYZ/12345",
        "ntfy://ntfy.example.com/deploys",
        "workflows://prod-00.westus.logic.azure.com:443/a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4/aBcDeFgHiJkLmNoPqRsTuVwXyZ01",
    ],
)
def test_apprise_urls_are_accepted_whole(url: str) -> None:
    target = parse_target(url, app_id="app1")
    assert (target.url, target.kind, target.events, target.app_id, target.secret) == (
        url,
        "apprise",
        frozenset(NOTIFIABLE),
        "app1",
        None,
    )


def test_zpanel_params_are_taken_out_and_the_channels_own_kept() -> None:
    target = parse_target("ntfy://ntfy.example.com/deploys?priority=high&zpanel_events=failed,rolled_back")
    assert target.url == "ntfy://ntfy.example.com/deploys?priority=high"
    assert target.events == {"deployment.failed", "deployment.rolled_back"}
    assert target.app_id is None


def test_signed_endpoint_with_secret_round_trips_through_spec() -> None:
    spec = f"https://ci.example.com/hooks/zpanel?zpanel_events=deployment.succeeded,server_unreachable&zpanel_secret={SECRET}"
    target = parse_target(spec, app_id="app1")
    assert (target.url, target.kind, target.secret) == ("https://ci.example.com/hooks/zpanel", "signed", SECRET)
    assert target.events == {"deployment.succeeded", "server.unreachable"}
    assert target.spec() == (
        "https://ci.example.com/hooks/zpanel?zpanel_events=deployment.succeeded,server.unreachable"
        f"&zpanel_secret={SECRET}"
    )
    assert parse_target(target.spec(), app_id="app1") == target


def test_plain_http_only_to_loopback() -> None:
    assert parse_target("http://127.0.0.1:8123/hook").kind == "signed"
    assert parse_target("http://localhost/hook").kind == "signed"
    assert parse_target("http://[::1]:9/hook").kind == "signed"
    with pytest.raises(TargetError) as err:
        parse_target("http://hooks.example.com/T0K3N")
    assert str(err.value) == (
        "the endpoint http://hooks.example.com/… uses plain http://: use https:// (http:// is allowed only "
        "to localhost, where nothing crosses the network)"
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "xoxb-not-a-url",
            "a notification target is not a URL (no scheme://): use an apprise URL such as mailto://, "
            "slack://, discord://, or an https:// endpoint that receives signed JSON "
            "(see https://github.com/caronc/apprise/wiki for each service's URL)",
        ),
        (
            "foo://sekrit@host/x",
            "notification URLs starting with foo:// are not supported; "
            "see https://github.com/caronc/apprise/wiki for each service's URL",
        ),
        (
            "msteams://TEAM@SEKRITGUID/SEKRIT2/SEKRIT3",
            "notification URLs starting with msteams:// are not supported; Microsoft Teams retired its "
            "connectors: use a workflows:// URL (Teams Power Automate); "
            "see https://github.com/caronc/apprise/wiki for each service's URL",
        ),
        (
            "workflows://SEKRIT",
            "the workflows:// URL workflows://*** is not valid; "
            "see https://github.com/caronc/apprise/wiki for each service's URL",
        ),
        ("https:///SEKRIT", "the endpoint https://***/… has no host"),
        ("https://h.example.com:99999/SEKRIT", "the endpoint https://h.example.com:99999/… is not a valid URL"),
        (
            f"slack://SEKRIT/B/C?zpanel_secret={SECRET}",
            "zpanel_secret applies to https:// targets only, not to slack:// (slack://***/…)",
        ),
        (
            "https://h.example.com/x?zpanel_secret=SEKRIT",
            "a signing secret must look like whsec_<base64>; generate one with zpanel",
        ),
        ("https://h.example.com/x?zpanel_secret=whsec_SEKRIT!!", "the signing secret after whsec_ is not valid base64"),
        (
            "https://h.example.com/x?zpanel_secret=whsec_U0VLUklU",
            "the signing secret is too short: use at least 16 random bytes",
        ),
        (
            f"{SLACK}?zpanel_events=",
            "zpanel_events is empty: name at least one of succeeded, failed, rolled_back, "
            "cancelled, preview_torn_down, server_unreachable (or all)",
        ),
    ],
)
def test_bad_targets_say_why_without_their_tokens(spec: str, message: str) -> None:
    with pytest.raises(TargetError) as err:
        parse_target(spec)
    assert str(err.value) == message
    assert "SEKRIT" not in str(err.value)


def test_events_by_full_or_short_name_or_all() -> None:
    assert parse_events("failed, deployment.succeeded ,preview_torn_down") == {
        "deployment.failed",
        "deployment.succeeded",
        "preview.torn_down",
    }
    assert parse_events("all") == frozenset(NOTIFIABLE)
    with pytest.raises(TargetError, match=r"^unknown event 'deployed' in zpanel_events: use succeeded, failed"):
        parse_events("failed,deployed")


def test_prepare_spec_gives_an_endpoint_a_secret_once() -> None:
    spec, secret = prepare_spec("https://ci.example.com/hook?zpanel_events=failed")
    assert secret is not None
    assert len(signed.decode_secret(secret)) == signed.SECRET_BYTES
    assert spec == f"https://ci.example.com/hook?zpanel_events=deployment.failed&zpanel_secret={secret}"
    assert prepare_spec(spec) == (spec, None)
    assert prepare_spec(SLACK) == (SLACK, None)


def test_select_by_event_and_app_and_each_destination_once() -> None:
    app_failures = parse_target(f"{SLACK}?zpanel_events=failed", app_id="app1")
    global_all = parse_target(SLACK)  # same destination as app_failures
    other_app = parse_target("ntfy://ntfy.example.com/other", app_id="app2")
    ops = parse_target("mailto://user:pass@example.com?zpanel_events=server_unreachable,failed")
    targets = [app_failures, global_all, other_app, ops]
    assert select(targets, "deployment.failed", "app1") == [app_failures, ops]
    assert select(targets, "deployment.succeeded", "app1") == [global_all]
    assert select(targets, "deployment.succeeded", "app2") == [global_all, other_app]
    assert select(targets, "server.unreachable", None) == [global_all, ops]


def test_parse_targets_skips_blank_lines_and_stops_at_a_bad_one() -> None:
    assert parse_targets(["", SLACK, "  "], app_id="a") == [parse_target(SLACK, app_id="a")]
    with pytest.raises(TargetError, match=r"^notification URLs starting with foo:// are not supported"):
        parse_targets([SLACK, "foo://x"])


def test_load_targets_keeps_the_good_ones_and_reports_the_bad() -> None:
    targets, errors = load_targets([SLACK, "foo://SEKRIT", "", "ntfy://ntfy.example.com/t"], app_id="a")
    assert targets == [parse_target(SLACK, app_id="a"), parse_target("ntfy://ntfy.example.com/t", app_id="a")]
    assert errors == [
        "notification URLs starting with foo:// are not supported; "
        "see https://github.com/caronc/apprise/wiki for each service's URL"
    ]


def test_repr_and_label_hide_the_url() -> None:
    target = parse_target(f"https://u:pw@ci.example.com/hooks/SEKRIT?zpanel_secret={SECRET}", app_id="app1")
    assert target.key == Target(url=target.url, kind="signed").key
    assert len(target.key) == 16
    assert target.label == f"https://***@ci.example.com/… [{target.key}]"
    assert repr(target) == (
        f"Target(https://***@ci.example.com/… [{target.key}], signed, app app1, events={sorted(NOTIFIABLE)})"
    )
    assert "SEKRIT" not in repr(target) and SECRET not in repr(target)
