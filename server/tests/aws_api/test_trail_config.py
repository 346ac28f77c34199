"""What CreateTrail, UpdateTrail, Start/StopLogging and Put/GetEventSelectors keep, and what
they mean here: a stopped trail takes no events, and event selectors decide which ingested
events a trail keeps. Expected shapes and defaults are AWS's (CloudTrail API reference)."""
import json
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import BIN


def code(call):
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"]


def push(server, trail, records):
    request = urllib.request.Request(f"{server.url}/api/v1/trails/{trail}/events", method="POST",
                                     data=json.dumps({"Records": records}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def ingest(server, trail, records, *flags):
    """`trailsight ingest` of one document from stdin: (exit code, stdout, stderr)."""
    done = subprocess.run([BIN, "ingest", "--trail", trail, "--db", f"sqlite://{server.db}", *flags, "-"],
                          input=json.dumps({"Records": records}).encode(), capture_output=True)
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def event(event_id, name, read_only, source="ec2.amazonaws.com", category="Management", resources=()):
    return {"eventVersion": "1.10", "eventID": event_id, "eventTime": "2026-03-10T17:30:00Z",
            "eventSource": source, "eventName": name, "awsRegion": "us-east-1", "readOnly": read_only,
            "managementEvent": category == "Management", "eventCategory": category,
            "recipientAccountId": "123456789012", "resources": list(resources)}


def ids(client, name):
    """The eventIDs LookupEvents finds for an API name around the test events' time."""
    found = client.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}],
                                 StartTime="2026-03-10T17:00:00Z", EndTime="2026-03-10T18:00:00Z", MaxResults=50)
    return {e["EventId"] for e in found["Events"]}


def test_create_trail_keeps_its_options_and_update_trail_changes_only_what_it_names(aws, client):
    created = aws.json(
        "create-trail", "--name", "org-trail", "--s3-bucket-name", "org-logs", "--s3-key-prefix", "ct",
        "--sns-topic-name", "trail-topic", "--is-multi-region-trail", "--no-include-global-service-events",
        "--enable-log-file-validation", "--kms-key-id", "alias/trail-key",
        "--cloud-watch-logs-log-group-arn", "arn:aws:logs:us-east-1:123456789012:log-group:ct:*",
        "--cloud-watch-logs-role-arn", "arn:aws:iam::123456789012:role/ct-to-logs",
        "--tags-list", "Key=team,Value=sec")
    arn = created["TrailARN"]
    assert created == {
        "Name": "org-trail", "S3BucketName": "org-logs", "S3KeyPrefix": "ct", "SnsTopicName": "trail-topic",
        "SnsTopicARN": "arn:aws:sns:us-east-1:123456789012:trail-topic", "IncludeGlobalServiceEvents": False,
        "IsMultiRegionTrail": True, "TrailARN": arn, "LogFileValidationEnabled": True,
        "CloudWatchLogsLogGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:ct:*",
        "CloudWatchLogsRoleArn": "arn:aws:iam::123456789012:role/ct-to-logs", "KmsKeyId": "alias/trail-key",
        "IsOrganizationTrail": False}
    trail = client.get_trail(Name="org-trail")["Trail"]
    assert {k: trail[k] for k in created} == created
    assert (trail["HomeRegion"], trail["HasCustomEventSelectors"], trail["HasInsightSelectors"]) == ("us-east-1", False, False)

    # AWS's defaults for what is not given: one region, global service events in.
    plain = client.create_trail(Name="plain-trail", S3BucketName="plain-logs")
    assert (plain["IsMultiRegionTrail"], plain["IncludeGlobalServiceEvents"], plain["LogFileValidationEnabled"]) == (False, True, False)
    assert "S3KeyPrefix" not in plain and "KmsKeyId" not in plain

    updated = client.update_trail(Name=arn, S3KeyPrefix="", IsMultiRegionTrail=False, S3BucketName="new-logs")
    assert (updated["S3BucketName"], updated["IsMultiRegionTrail"], "S3KeyPrefix" in updated) == ("new-logs", False, False)
    again = client.get_trail(Name="org-trail")["Trail"]
    assert (again["SnsTopicName"], again["LogFileValidationEnabled"], again["KmsKeyId"]) == ("trail-topic", True, "alias/trail-key")
    assert client.list_tags(ResourceIdList=[arn])["ResourceTagList"][0]["TagsList"] == [{"Key": "team", "Value": "sec"}]

    assert code(lambda: client.update_trail(Name="no-such-trail", IsMultiRegionTrail=True)) == "TrailNotFoundException"
    assert code(lambda: client.update_trail(Name="a b", IsMultiRegionTrail=True)) == "InvalidTrailNameException"
    assert code(lambda: client.update_trail(Name="org-trail", S3BucketName="Bad_Bucket")) == "InvalidS3BucketNameException"
    assert code(lambda: client.update_trail(Name="org-trail", S3KeyPrefix="p" * 201)) == "InvalidS3PrefixException"
    assert code(lambda: client.update_trail(Name="org-trail", CloudWatchLogsLogGroupArn="")) == "InvalidCloudWatchLogsLogGroupArnException"
    assert code(lambda: client.create_trail(Name="cw-trail", S3BucketName="cw-logs",
                                            CloudWatchLogsRoleArn="arn:aws:iam::123456789012:role/r")) == "InvalidCloudWatchLogsLogGroupArnException"
    assert code(lambda: client.get_trail(Name="cw-trail")) == "TrailNotFoundException", "a refused CreateTrail creates nothing"
    assert client.get_trail(Name="org-trail")["Trail"]["S3BucketName"] == "new-logs", "a refused UpdateTrail changes nothing"
    for name in ("org-trail", "plain-trail"):
        client.delete_trail(Name=name)


def test_a_trail_takes_events_only_while_it_logs(server, client):
    client.create_trail(Name="gated-trail", S3BucketName="gated-logs")
    status = client.get_trail_status(Name="gated-trail")
    assert status["IsLogging"] is False and "StartLoggingTime" not in status and "StopLoggingTime" not in status

    # Not started yet: pushes and ingest are refused, saying what to do, and nothing is stored.
    status_code, body = push(server, "gated-trail", [event("gated-1", "RunInstances", False)])
    assert status_code == 409 and "start-logging" in body["error"], body
    exit_code, _, stderr = ingest(server, "gated-trail", [event("gated-1", "RunInstances", False)])
    assert exit_code != 0 and "not logging" in stderr and "--even-if-stopped" in stderr, stderr
    assert "gated-1" not in ids(client, "RunInstances")

    before = time.time()
    client.start_logging(Name="gated-trail")
    started = client.get_trail_status(Name="gated-trail")
    assert started["IsLogging"] is True
    assert before - 1 <= started["StartLoggingTime"].timestamp() <= time.time() + 1
    assert push(server, "gated-trail", [event("gated-1", "RunInstances", False)])[0] == 200
    assert "gated-1" in ids(client, "RunInstances")

    client.stop_logging(Name="gated-trail")
    stopped = client.get_trail_status(Name="gated-trail")
    assert stopped["IsLogging"] is False
    assert stopped["StartLoggingTime"] == started["StartLoggingTime"], "stopping keeps the last start"
    assert stopped["StopLoggingTime"] >= stopped["StartLoggingTime"]
    assert push(server, "gated-trail", [event("gated-2", "RunInstances", False)])[0] == 409
    # The CLI can override, e.g. to backfill history into a stopped trail.
    exit_code, stdout, stderr = ingest(server, "gated-trail", [event("gated-2", "RunInstances", False)], "--even-if-stopped")
    assert exit_code == 0 and "1 records stored" in stdout, stdout + stderr
    client.delete_trail(Name="gated-trail")


def test_event_selectors_decide_what_a_trail_keeps(server, aws, client):
    # The demo trail was made by ingest: it keeps everything its logs hold.
    kept = client.get_event_selectors(TrailName="demo")
    assert [s["FieldSelectors"] for s in kept["AdvancedEventSelectors"]] == [
        [{"Field": "eventCategory", "Equals": ["Management"]}], [{"Field": "eventCategory", "Equals": ["Data"]}]]
    assert "EventSelectors" not in kept

    client.create_trail(Name="selective", S3BucketName="selective-logs")
    # AWS's default for a new trail: all management events, no data events.
    default = client.get_event_selectors(TrailName="selective")
    assert default["EventSelectors"] == [{"ReadWriteType": "All", "IncludeManagementEvents": True,
                                         "DataResources": [], "ExcludeManagementEventSources": []}]
    assert default["TrailARN"].endswith(":trail/selective")
    client.start_logging(Name="selective")
    # As CloudTrail writes an S3 data event: the object and its bucket.
    s3_object = lambda bucket: [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/k"},
                                {"type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]
    batch = [event("sel-write", "RunInstances", False), event("sel-read", "DescribeInstances", True),
             event("sel-data", "GetObject", True, "s3.amazonaws.com", "Data", s3_object("audit"))]
    exit_code, stdout, _ = ingest(server, "selective", batch)
    assert exit_code == 0 and "2 records stored" in stdout and "1 events not stored" in stdout, stdout
    assert "s3.amazonaws.com GetObject: 1" in stdout, stdout

    # Write-only management events (the CLI's shorthand, as AWS documents it).
    put = aws.json("put-event-selectors", "--trail-name", "selective", "--event-selectors",
                   '[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": true}]')
    assert put["EventSelectors"][0]["ReadWriteType"] == "WriteOnly"
    assert client.get_trail(Name="selective")["Trail"]["HasCustomEventSelectors"] is True
    status_code, summary = push(server, "selective", [event("sel-write-2", "RunInstances", False),
                                                      event("sel-read-2", "DescribeInstances", True)])
    assert status_code == 200 and summary["records_stored"] == 1, summary
    assert summary["not_selected"] == {"total": 1, "by_api": {"ec2.amazonaws.com DescribeInstances": 1}}

    # Advanced: management events and S3 data events, except reads of a noisy bucket.
    client.put_event_selectors(TrailName="selective", AdvancedEventSelectors=[
        {"Name": "management", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
        {"Name": "quiet s3", "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "resources.ARN", "NotStartsWith": ["arn:aws:s3:::noisy/"]}]}])
    got = client.get_event_selectors(TrailName="selective")
    assert "EventSelectors" not in got and got["AdvancedEventSelectors"][1]["Name"] == "quiet s3"
    status_code, summary = push(server, "selective", [
        event("sel-data-2", "GetObject", True, "s3.amazonaws.com", "Data", s3_object("audit")),
        event("sel-noisy", "GetObject", True, "s3.amazonaws.com", "Data", s3_object("noisy"))])
    assert status_code == 200 and summary["records_stored"] == 1 and summary["not_selected"]["total"] == 1, summary

    refused = [
        dict(EventSelectors=[{"ReadWriteType": "All"}] * 6),
        dict(EventSelectors=[{"DataResources": [{"Type": "AWS::EC2::Instance", "Values": ["arn:aws:ec2"]}]}]),
        dict(EventSelectors=[{"ExcludeManagementEventSources": ["ec2.amazonaws.com"]}]),
        dict(EventSelectors=[{}], AdvancedEventSelectors=[{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}]}]),
        dict(AdvancedEventSelectors=[{"FieldSelectors": [{"Field": "readOnly", "StartsWith": ["t"]}]}]),
        dict(AdvancedEventSelectors=[{"FieldSelectors": [{"Field": "eventName", "Equals": ["GetObject"]}]}]),
    ]
    for selectors in refused:
        assert code(lambda: client.put_event_selectors(TrailName="selective", **selectors)) == "InvalidEventSelectorsException", selectors
    assert client.get_event_selectors(TrailName="selective")["AdvancedEventSelectors"] == got["AdvancedEventSelectors"], \
        "refused selectors change nothing"
    assert code(lambda: client.get_event_selectors(TrailName="no-such-trail")) == "TrailNotFoundException"
    assert code(lambda: client.put_event_selectors(TrailName="a b", EventSelectors=[{}])) == "InvalidTrailNameException"
    client.delete_trail(Name="selective")


def test_list_public_keys_says_there_are_no_digest_keys(aws, client):
    # trailsight writes no digest files, so no key ever signed one; AWS's shape, and its errors.
    assert aws.json("list-public-keys")["PublicKeyList"] == []
    assert client.list_public_keys(StartTime="2026-03-01T00:00:00Z", EndTime="2026-03-10T00:00:00Z")["PublicKeyList"] == []
    assert code(lambda: client.list_public_keys(StartTime="2026-03-10T00:00:00Z", EndTime="2026-03-01T00:00:00Z")) \
        == "InvalidTimeRangeException"
