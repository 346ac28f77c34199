"""The AWS SDK for JavaScript v3 against the server, checked against boto3 on the same server.

The other AWS API tests use the aws CLI and boto3, which share botocore: its signer, its JSON
serialiser and its error parser. A server that only fits botocore's habits would pass them. The
JavaScript SDK (Smithy-generated) is a second, independent implementation of SigV4, of the
AWS JSON 1.1 protocol, of paginators and of error mapping; js/sdk_client.mjs runs a user's
script with it and the answers must be the ones boto3 gets.
"""
import json
import os
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

import attack
from conftest import KEY_ID, SECRET

JS = Path(__file__).resolve().parent / "js"


def at(hour, minute):
    return datetime(2026, 3, 10, hour, minute, tzinfo=timezone.utc)


def run_sdk_script(server):
    # Never skipped: without the SDK this test fails and says how to install it.
    if not (JS / "node_modules" / "@aws-sdk" / "client-cloudtrail").is_dir():
        pytest.fail(f"the AWS SDK for JavaScript is not installed: run `npm ci` in {JS} (scripts/test.sh does)")
    node = shutil.which("node")
    assert node, "node is not on PATH"
    # No AWS_* from the caller's environment: the script gets its endpoint and keys as arguments.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run([node, "sdk_client.mjs", server.url, KEY_ID, SECRET], cwd=JS, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"sdk_client.mjs failed:\n{done.stderr}"
    return json.loads(done.stdout)


def test_the_javascript_sdk_sees_what_boto3_sees(server, client):
    js = run_sdk_script(server)
    name, arn = js["name"], js["created"]["TrailARN"]

    # Trail lifecycle: created, listed by the SDK's paginator, described, tagged, then gone.
    assert js["created"] == {"Name": name, "TrailARN": arn, "S3BucketName": "js-sdk-bucket"}
    assert arn.endswith(f":trail/{name}")
    assert name in js["listedBefore"] and name not in js["listedAfter"]
    assert sorted(js["listedBefore"]) == sorted(js["listedAfter"] + [name])
    boto_names = [t["Name"] for p in client.get_paginator("list_trails").paginate() for t in p["Trails"]]
    assert js["listedAfter"] == boto_names, "both paginators list the same trails in the same order"
    assert js["described"] == [name]
    assert js["isLogging"] is False, "as in AWS, a trail made by CreateTrail logs only after StartLogging"
    assert js["putSelectors"] == js["getSelectors"] == [{"InsightType": "ApiCallRateInsight"}]
    assert js["tags"] == [{"ResourceId": arn, "TagsList": [{"Key": "client", "Value": "aws-sdk-js-v3"}]}]
    with pytest.raises(ClientError) as gone:
        client.get_trail(Name=name)
    assert gone.value.response["Error"]["Code"] == "TrailNotFoundException"

    # LookupEvents through the SDK's paginator: the same events as boto3's paginator, in order.
    # PutParameter, not RunInstances: the seed-7 demo has no RunInstances from 11:00 to 13:00,
    # and comparing two empty lists would prove nothing; the attack's burst is PutParameter.
    pages = client.get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "PutParameter"}],
        StartTime=at(11, 0), EndTime=at(13, 0))
    boto_ids = [e["EventId"] for p in pages for e in p["Events"]]
    found = js["lookup"]
    assert found["count"] == len(boto_ids) >= sum(attack.calls_per_minute("PutParameter").values())
    assert found["eventIds"] == boto_ids and found["pages"] > 1, "10 a page: the paginator followed NextToken"

    # ListInsightsMetricData: same minutes (the SDK parses epoch seconds itself), same counts.
    boto = client.list_insights_metric_data(
        EventSource="ssm.amazonaws.com", EventName="PutParameter", InsightType="ApiCallRateInsight",
        StartTime=at(11, 50), EndTime=at(12, 15), Period=60)
    assert [datetime.fromisoformat(t) for t in js["metric"]["Timestamps"]] == boto["Timestamps"]
    assert js["metric"]["Values"] == boto["Values"] and max(boto["Values"]) >= 10, "the burst minute"

    # The error a script catches by name, with AWS's status code.
    missing = js["missing"]
    assert missing["name"] == "TrailNotFoundException" and missing["isModeledClass"] is True
    assert missing["httpStatusCode"] == 404 and missing["fault"] == "client"

    # $metadata.requestId on every answer, errors too: UUIDs, a new one each time.
    ids = list(js["requestIds"].values()) + [missing["requestId"]]
    assert len(js["requestIds"]) == 11, js["requestIds"]
    assert all(isinstance(i, str) and len(i) == 36 and i.count("-") == 4 for i in ids), ids
    assert len(set(ids)) == len(ids)
