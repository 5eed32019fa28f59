"""How a diff reads: grouped by component, tag-only updates on one line, the commit and CI run
from GitHub's variables, colour only for a terminal and never with NO_COLOR."""

from __future__ import annotations

import io
from typing import Any

from stacks.review.command import CHANGES, NEW_MANDATORY, exit_code, use_colour
from stacks.review.diff import diff_plans
from stacks.review.render import render_markdown, render_text
from stacks.review.sections import RunInfo

STACK = "urn:pulumi:dev::shop::"
NETWORK = f"{STACK}shop:network:Network::network"


def record(type_: str, name: str, inputs: dict[str, Any], parent: str = "") -> dict[str, Any]:
    chain = f"{parent.rsplit('::', 2)[-2]}${type_}" if parent else type_
    return {"urn": f"{STACK}{chain}::{name}", "type": type_, "name": name, "parent": parent,
            "inputs": inputs, "options": {}}


def plans() -> tuple[dict[str, Any], dict[str, Any]]:
    component = record("shop:network:Network", "network", {})
    before = {"stack": "dev", "resources": [
        component,
        record("aws:ec2/vpc:Vpc", "network-vpc", {"cidrBlock": "10.10.0.0/16",
                                                  "tags": {"Owner": "a"}}, NETWORK),
        record("aws:ec2/subnet:Subnet", "network-a", {"cidrBlock": "10.10.0.0/20",
                                                      "mapPublicIpOnLaunch": False}, NETWORK),
        record("aws:sns/topic:Topic", "alerts", {"tags": {"Owner": "a", "Team": "x"}}),
    ]}
    after = {"stack": "dev", "resources": [
        component,
        record("aws:ec2/vpc:Vpc", "network-vpc", {"cidrBlock": "10.10.0.0/16",
                                                  "tags": {"Owner": "b"}}, NETWORK),
        record("aws:ec2/subnet:Subnet", "network-a", {"cidrBlock": "10.10.0.0/20",
                                                      "mapPublicIpOnLaunch": True}, NETWORK),
        record("aws:sns/topic:Topic", "alerts", {"tags": {"Owner": "b", "Team": "y"}}),
    ]}
    return before, after


def test_changes_are_grouped_by_component_and_tag_only_updates_take_one_line():
    text = render_text(diff_plans(*plans()))
    lines = text.splitlines()
    network = lines.index("network  (shop:network:Network)")
    assert lines[network + 1:network + 4] == [
        "  ~ aws:ec2/subnet:Subnet  network-a",
        "        ~ mapPublicIpOnLaunch: false => true",
        "  ~ aws:ec2/vpc:Vpc  network-vpc  (tags only: tags.Owner)"]
    stack = lines.index("(stack)")
    assert lines[stack + 1] == "  ~ aws:sns/topic:Topic  alerts  (tags only: tags.Owner, tags.Team)"
    markdown = render_markdown(diff_plans(*plans()))
    assert "#### network <sub>shop:network:Network</sub>" in markdown
    assert ("- <code>~</code> update <code>aws:ec2/vpc:Vpc</code> network-vpc: tags only "
            "(<code>tags.Owner</code>)") in markdown
    assert markdown.count("<details>") == 1  # the subnet's; the retagged ones are lines


def test_the_run_comes_from_github_actions_variables():
    env = {"GITHUB_SHA": "f" * 40, "DIFF_COMMIT_SHA": "a" * 40,
           "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/shop",
           "GITHUB_RUN_ID": "42"}
    run = RunInfo.from_env(env)
    assert run == RunInfo("a" * 40, "https://github.com/acme/shop/actions/runs/42")
    assert RunInfo.from_env({"GITHUB_SHA": "b" * 40}) == RunInfo("b" * 40, "")
    assert RunInfo.from_env({}) == RunInfo()
    diff = diff_plans(*plans())
    assert render_text(diff, run).splitlines()[0] == (
        f"Plan diff of stack dev (commit {'a' * 12}, "
        "https://github.com/acme/shop/actions/runs/42)")
    assert (f"commit `{'a' * 12}` \u00b7 [CI run](https://github.com/acme/shop/actions/runs/42)"
            in render_markdown(diff, run=run).splitlines())
    assert "CI run" not in render_markdown(diff, run=RunInfo.from_env({}))


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_and_never_with_no_color():
    assert use_colour(Terminal(), {}) is True
    assert use_colour(Terminal(), {"NO_COLOR": "1"}) is False
    assert use_colour(Terminal(), {"NO_COLOR": ""}) is True  # no-color.org: only when set
    assert use_colour(io.StringIO(), {}) is False
    diff = diff_plans(*plans())
    assert "\x1b[33m~ aws:ec2/subnet:Subnet  network-a\x1b[0m" in render_text(diff, colour=True)
    assert "\x1b[" not in render_text(diff)


def test_plans_with_differently_made_ids_carry_a_warning_first():
    before, after = plans()
    after["mockIds"] = "type+name+forcenew/1"
    diff = diff_plans(before, after)
    assert render_text(diff).splitlines()[2] == (
        "note: the plans' mock ids were made differently (type+name -> type+name+forcenew/1): "
        "ids differ everywhere, so the replacements that follow from them may not be real; "
        "`pulumi preview` has the last word on this change")
    assert "> [!NOTE]" in render_markdown(diff)
    assert diff_plans(*plans()).warnings == ()


def test_across_id_schemes_a_lost_bucket_is_reported_but_not_failed_on():
    before, after = plans()
    bucket = record("aws:s3/bucket:Bucket", "media", {"bucket": "shop-prod-media"})
    before["resources"].append(bucket)
    before["stack"] = after["stack"] = "prod"
    assert exit_code(diff_plans(before, after)) == NEW_MANDATORY  # prod: mandatory
    after["mockIds"] = "type+name+forcenew/1"
    diff = diff_plans(before, after)
    assert [c.name for c in diff.destructive] == ["media"]
    assert [(f.policy, f.enforcement) for f in diff.new_findings] == [
        ("no-stateful-replacement", "advisory")]
    assert exit_code(diff) == CHANGES
