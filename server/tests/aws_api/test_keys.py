"""AWS key pairs made with `trailsight tokens create NAME --role ... --aws` sign requests with
boto3 and act with their role: viewers read, admins change, each change is audited, and a
revoked key stops working at once."""
import sqlite3

import pytest
from botocore.exceptions import ClientError

from conftest import make_client


def code(call):
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]


def key_pair(server, name, role):
    out = server.trailsight("tokens", "create", name, "--role", role, "--aws").stdout.decode()
    pairs = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return pairs["AWS_ACCESS_KEY_ID"], pairs["AWS_SECRET_ACCESS_KEY"]


def test_key_pairs_act_with_their_tokens_role(server):
    viewer = make_client(server, *key_pair(server, "auditor", "viewer"))
    assert any(t["Name"] == "demo" for t in viewer.describe_trails()["trailList"]), "a viewer reads"
    assert viewer.lookup_events(MaxResults=1)["Events"], "and looks up events"
    assert code(lambda: viewer.create_trail(Name="sneaky", S3BucketName="my-bucket")) == ("AccessDeniedException", 400)
    assert code(lambda: viewer.delete_trail(Name="demo")) == ("AccessDeniedException", 400)
    assert any(t["Name"] == "demo" for t in viewer.describe_trails()["trailList"]), "nothing was deleted"

    admin = make_client(server, *key_pair(server, "automation", "admin"))
    admin.create_trail(Name="made-by-key", S3BucketName="my-bucket")
    admin.put_insight_selectors(TrailName="made-by-key", InsightSelectors=[{"InsightType": "ApiErrorRateInsight"}])
    admin.delete_trail(Name="made-by-key")
    with sqlite3.connect(server.db) as db:
        log = db.execute("SELECT actor, action, target FROM audit_log WHERE actor = 'automation' ORDER BY id").fetchall()
    assert log == [("automation", "aws.CreateTrail", "made-by-key"),
                   ("automation", "aws.PutInsightSelectors", "made-by-key"),
                   ("automation", "aws.DeleteTrail", "made-by-key")]

    server.trailsight("tokens", "revoke", "auditor")
    assert code(lambda: viewer.describe_trails()) == ("UnrecognizedClientException", 400)


def test_a_push_key_pair_reads_nothing(server):
    pusher = make_client(server, *key_pair(server, "forwarder-key", "push"))
    assert code(lambda: pusher.describe_trails()) == ("AccessDeniedException", 400)
