"""LookupEvents and ListInsightsMetricData through the real clients, on the demo history."""
import json
from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError

import attack

ATTACK_DAY = datetime(2026, 3, 10, tzinfo=timezone.utc)


def at(hour, minute):
    return ATTACK_DAY.replace(hour=hour, minute=minute)


def test_insight_events_with_the_documented_cli_command(aws):
    out = aws.json("lookup-events", "--event-category", "insight", "--max-items", "5")
    events = out["Events"]
    assert len(events) == 5 and out.get("NextToken")
    times = [e["EventTime"] for e in events]
    assert times == sorted(times, reverse=True), "newest first"
    record = json.loads(events[0]["CloudTrailEvent"])
    assert record["eventType"] == "AwsCloudTrailInsight"
    assert record["insightDetails"]["state"] in ("Start", "End")
    assert events[0]["EventName"] == record["insightDetails"]["eventName"]


def test_paging_through_all_insight_events(client):
    pages = client.get_paginator("lookup_events").paginate(EventCategory="insight", PaginationConfig={"PageSize": 3})
    events = [e for page in pages for e in page["Events"]]
    records = [json.loads(e["CloudTrailEvent"]) for e in events]
    expected = attack.insights()
    found = {(r["insightDetails"]["insightType"], r["insightDetails"]["eventName"], r["insightDetails"].get("errorCode"))
             for r in records}
    assert found == expected, "the insights differ from the attack's bursts"
    assert len(events) == 2 * len(expected), "each insight a Start and an End"
    assert len({e["EventId"] for e in events}) == len(events)
    starts = {r["sharedEventID"] for r in records if r["insightDetails"]["state"] == "Start"}
    ends = {r["sharedEventID"] for r in records if r["insightDetails"]["state"] == "End"}
    assert starts == ends and len(starts) == len(expected)

    by_name = client.lookup_events(EventCategory="insight",
                                   LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GetPasswordData"}])
    password_insights = [k for k in expected if k[1] == "GetPasswordData"]
    assert {e["EventName"] for e in by_name["Events"]} == {"GetPasswordData"}
    assert len(by_name["Events"]) == 2 * len(password_insights)
    one = events[0]["EventId"]
    by_id = client.lookup_events(EventCategory="insight", LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": one}])
    assert [e["EventId"] for e in by_id["Events"]] == [one]


def lookup(client, key, value, **kw):
    return client.lookup_events(LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}],
                                StartTime=at(11, 0), EndTime=at(13, 0), MaxResults=50, **kw)["Events"]


def test_management_events_by_every_lookup_attribute(client):
    puts = lookup(client, "EventName", "PutParameter")
    assert puts and {e["EventName"] for e in puts} == {"PutParameter"}
    first = puts[0]
    assert json.loads(first["CloudTrailEvent"])["eventID"] == first["EventId"]
    assert [e["EventId"] for e in lookup(client, "EventId", first["EventId"])] == [first["EventId"]]
    assert {e["EventSource"] for e in lookup(client, "EventSource", "ssm.amazonaws.com")} == {"ssm.amazonaws.com"}
    assert {e["ReadOnly"] for e in lookup(client, "ReadOnly", "false")} == {"false"}
    assert {e["ReadOnly"] for e in lookup(client, "ReadOnly", "true")} == {"true"}
    by_user = lookup(client, "Username", "bert-jan")
    assert by_user and {e["Username"] for e in by_user} == {"bert-jan"}
    by_key = lookup(client, "AccessKeyId", "AKIATFQR7NSC8Q4X20BJ")
    assert by_key and {e["AccessKeyId"] for e in by_key} == {"AKIATFQR7NSC8Q4X20BJ"}
    # SSM parameters carry no resource type in CloudTrail: AWS leaves ResourceType out.
    parameter = next(e for e in puts if e["Resources"])
    assert "ResourceType" not in parameter["Resources"][0]
    by_name = lookup(client, "ResourceName", parameter["Resources"][0]["ResourceName"])
    assert parameter["EventId"] in [e["EventId"] for e in by_name]
    keys = lookup(client, "ResourceType", "AWS::KMS::Key")
    assert keys and {e["EventName"] for e in keys} <= {"Decrypt", "GenerateDataKey", "CreateGrant"}
    assert all(r["ResourceType"] == "AWS::KMS::Key" for e in keys for r in e["Resources"])


def test_an_assumed_roles_username_is_its_session_name_as_in_aws_event_history(client):
    # AWS's own `aws cloudtrail lookup-events` example shows "Username": "my-session-name" for
    # arn:aws:sts::123456789012:assumed-role/my-role/my-session-name: the session, not the role.
    by_session = lookup(client, "Username", "github-actions")
    assert by_session and {e["Username"] for e in by_session} == {"github-actions"}
    arns = {json.loads(e["CloudTrailEvent"])["userIdentity"]["arn"] for e in by_session}
    assert arns == {"arn:aws:sts::123837392027:assumed-role/ci-deployer/github-actions"}
    assert lookup(client, "Username", "ci-deployer") == [], "the role's name is not a user name"


def test_time_range_is_inclusive_and_data_events_are_not_history(client):
    window = client.lookup_events(StartTime=at(11, 58), EndTime=at(11, 58), MaxResults=50)["Events"]
    assert window == [], "no event at exactly 11:58:00.000"
    minute = client.lookup_events(StartTime=at(11, 58), EndTime=at(11, 59), MaxResults=50)["Events"]
    assert minute and all(at(11, 58) <= e["EventTime"] <= at(11, 59) for e in minute)
    objects = client.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GetObject"}])
    assert objects["Events"] == [], "S3 data events are not in the event history"


def test_pages_do_not_shift_while_new_events_arrive(server, client):
    query = dict(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "DescribeInstances"}],
                 StartTime=at(0, 0), EndTime=at(18, 0), MaxResults=50)
    reference = [e["EventId"] for p in client.get_paginator("lookup_events").paginate(**query) for e in p["Events"]]
    assert len(reference) > 100

    first = client.lookup_events(**query)
    newer = ('{"eventID":"late-arrival-1","eventTime":"2026-03-10T17:59:59Z","eventSource":"ec2.amazonaws.com",'
             '"eventName":"DescribeInstances","readOnly":true,"eventCategory":"Management"}')
    server.trailsight("ingest", "--trail", "demo", "-", stdin=newer.encode())
    seen = [e["EventId"] for e in first["Events"]]
    token = first["NextToken"]
    while token:
        page = client.lookup_events(NextToken=token, **query)
        seen += [e["EventId"] for e in page["Events"]]
        token = page.get("NextToken")
    assert seen == reference, "no event skipped or repeated"
    assert client.lookup_events(**query)["Events"][0]["EventId"] == "late-arrival-1"


def code(call):
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"]


def test_lookup_errors(client):
    two = [{"AttributeKey": "EventName", "AttributeValue": "a"}, {"AttributeKey": "EventSource", "AttributeValue": "b"}]
    assert code(lambda: client.lookup_events(LookupAttributes=two)) == "InvalidLookupAttributesException"
    assert code(lambda: client.lookup_events(
        EventCategory="insight", LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "x"}])) == "InvalidLookupAttributesException"
    assert code(lambda: client.lookup_events(StartTime=at(12, 0), EndTime=at(11, 0))) == "InvalidTimeRangeException"
    assert code(lambda: client.lookup_events(MaxResults=51)) == "InvalidMaxResultsException"
    assert code(lambda: client.lookup_events(EventCategory="data")) == "InvalidEventCategoryException"
    assert code(lambda: client.lookup_events(NextToken="not-a-token")) == "InvalidNextTokenException"
    token = client.lookup_events(MaxResults=1)["NextToken"]
    assert code(lambda: client.lookup_events(MaxResults=1, NextToken=token, EventCategory="insight")) == "InvalidNextTokenException"


def test_insights_metric_data_behind_the_graph(client):
    common = dict(EventSource="ssm.amazonaws.com", EventName="PutParameter", InsightType="ApiCallRateInsight",
                  StartTime=at(11, 50), EndTime=at(12, 10), Period=60)
    filled = client.list_insights_metric_data(DataType="FillWithZeros", **common)
    # EndTime is exclusive (AWS's API reference): 11:50 up to 12:10 is 20 minutes, 12:10 not among them.
    assert len(filled["Timestamps"]) == len(filled["Values"]) == 20
    assert filled["Timestamps"][0] == at(11, 50) and filled["Timestamps"][-1] == at(12, 9)
    values = dict(zip(filled["Timestamps"], filled["Values"]))
    burst = attack.calls_per_minute("PutParameter", writes_only=True)
    (hour, minute), most = burst.most_common(1)[0]
    assert values[at(hour, minute)] == float(most), "the burst minute: every PutParameter call in it"
    nonzero = client.list_insights_metric_data(DataType="NonZeroData", **common)
    assert nonzero["Values"] and all(v > 0 for v in nonzero["Values"])
    assert client.list_insights_metric_data(**common)["Values"] == nonzero["Values"], "NonZeroData is the default"
    assert at(hour, minute) in nonzero["Timestamps"]

    errors = client.list_insights_metric_data(
        EventSource="ssm.amazonaws.com", EventName="PutParameter", InsightType="ApiErrorRateInsight",
        ErrorCode="ThrottlingException", StartTime=at(11, 0), EndTime=at(13, 0), Period=3600)
    assert errors["ErrorCode"] == "ThrottlingException"
    throttled = attack.calls_per_minute("PutParameter", error_code="ThrottlingException")
    in_hour = sum(n for (h, _), n in throttled.items() if h == 11)
    assert dict(zip(errors["Timestamps"], errors["Values"]))[at(11, 0)] == float(in_hour)

    paged = client.list_insights_metric_data(MaxResults=5, DataType="FillWithZeros", **common)
    assert len(paged["Values"]) == 5 and paged["NextToken"]
    rest = client.list_insights_metric_data(MaxResults=50, NextToken=paged["NextToken"], DataType="FillWithZeros", **common)
    assert paged["Timestamps"] + rest["Timestamps"] == filled["Timestamps"]

    # TrailName selects one trail's series (AWS's parameter): the demo's are these; a trail
    # with no events has none; an unknown trail is an error.
    assert client.list_insights_metric_data(TrailName="demo", DataType="FillWithZeros", **common)["Values"] == filled["Values"]
    client.create_trail(Name="metrics-empty", S3BucketName="metrics-empty")
    try:
        assert client.list_insights_metric_data(TrailName="metrics-empty", **common)["Values"] == []
    finally:
        client.delete_trail(Name="metrics-empty")
    assert code(lambda: client.list_insights_metric_data(TrailName="no-such-trail", **common)) == "TrailNotFoundException"

    assert code(lambda: client.list_insights_metric_data(**{**common, "Period": 120})) == "InvalidParameterException"
    assert code(lambda: client.list_insights_metric_data(**{**common, "InsightType": "ApiErrorRateInsight"})) == "InvalidParameterException"


def test_list_insights_data_pages_one_trails_insight_events(aws, client):
    trail_arn = client.get_trail(Name="demo")["Trail"]["TrailARN"]
    expected = attack.insights()
    pages = client.get_paginator("list_insights_data").paginate(
        InsightSource=trail_arn, DataType="InsightsEvents", PaginationConfig={"PageSize": 3})
    events = [e for page in pages for e in page["Events"]]
    records = [json.loads(e["CloudTrailEvent"]) for e in events]
    found = {(r["insightDetails"]["insightType"], r["insightDetails"]["eventName"], r["insightDetails"].get("errorCode"))
             for r in records}
    assert found == expected and len(events) == 2 * len(expected), "each insight's Start and End"
    times = [e["EventTime"] for e in events]
    assert times == sorted(times, reverse=True), "newest first"

    by_name = aws.json("list-insights-data", "--insight-source", trail_arn, "--data-type", "InsightsEvents",
                       "--dimensions", "EventName=DeleteParameter")["Events"]
    delete_insights = [k for k in expected if k[1] == "DeleteParameter"]
    assert {e["EventName"] for e in by_name} == {"DeleteParameter"} and len(by_name) == 2 * len(delete_insights)
    one = events[0]["EventId"]
    by_id = client.list_insights_data(InsightSource=trail_arn, DataType="InsightsEvents", Dimensions={"EventId": one})
    assert [e["EventId"] for e in by_id["Events"]] == [one]

    for bad in [dict(InsightSource="arn:aws:cloudtrail:us-east-1:123456789012:trail/nope", DataType="InsightsEvents"),
                dict(InsightSource=trail_arn, DataType="Metrics"),
                dict(InsightSource=trail_arn, DataType="InsightsEvents", MaxResults=51),
                dict(InsightSource=trail_arn, DataType="InsightsEvents", Dimensions={"Username": "x"})]:
        assert code(lambda: client.list_insights_data(**bad)) == "InvalidParameterException", bad
