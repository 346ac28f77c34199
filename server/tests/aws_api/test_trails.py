"""Trails and insight selectors through the real aws CLI, exactly as AWS documents the commands."""
import pytest
from botocore.exceptions import ClientError


def test_trail_lifecycle_with_the_aws_cli(aws):
    created = aws.json("create-trail", "--name", "cli-trail", "--s3-bucket-name", "my-log-bucket")
    assert created["Name"] == "cli-trail"
    assert created["TrailARN"].endswith(":trail/cli-trail")
    assert created["S3BucketName"] == "my-log-bucket"

    names = [t["Name"] for t in aws.json("describe-trails")["trailList"]]
    assert "cli-trail" in names and "demo" in names
    only = aws.json("describe-trails", "--trail-name-list", "cli-trail")["trailList"]
    assert [t["Name"] for t in only] == ["cli-trail"]
    assert aws.json("get-trail", "--name", created["TrailARN"])["Trail"]["Name"] == "cli-trail"

    # As on AWS, a trail made through the API does not log until StartLogging.
    assert aws.json("get-trail-status", "--name", "cli-trail") == {"IsLogging": False}
    aws.json("start-logging", "--name", "cli-trail")
    assert aws.json("get-trail-status", "--name", "cli-trail")["IsLogging"] is True
    aws.json("stop-logging", "--name", "cli-trail")
    assert aws.json("get-trail-status", "--name", "cli-trail")["IsLogging"] is False

    # A new trail has Insights off, as in AWS.
    off = aws.run("get-insight-selectors", "--trail-name", "cli-trail")
    assert off.returncode != 0 and "InsightNotEnabledException" in off.stderr

    put = aws.json("put-insight-selectors", "--trail-name", "cli-trail",
                   "--insight-selectors", '[{"InsightType": "ApiCallRateInsight"}]')
    assert put["InsightSelectors"] == [{"InsightType": "ApiCallRateInsight"}]
    got = aws.json("get-insight-selectors", "--trail-name", "cli-trail")
    assert got == {"TrailARN": created["TrailARN"], "InsightSelectors": [{"InsightType": "ApiCallRateInsight"}]}

    aws.json("delete-trail", "--name", "cli-trail")
    gone = aws.run("get-trail", "--name", "cli-trail")
    assert gone.returncode != 0 and "TrailNotFoundException" in gone.stderr


def error(call):
    with pytest.raises(ClientError) as caught:
        call()
    e = caught.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"]


def test_trail_errors_are_aws_errors(client):
    client.create_trail(Name="dup-trail", S3BucketName="my-bucket")
    assert error(lambda: client.create_trail(Name="dup-trail", S3BucketName="my-bucket")) == ("TrailAlreadyExistsException", 400)
    assert error(lambda: client.create_trail(Name="bad--name", S3BucketName="my-bucket")) == ("InvalidTrailNameException", 400)
    assert error(lambda: client.get_trail(Name="no-such-trail")) == ("TrailNotFoundException", 404)
    assert error(lambda: client.delete_trail(Name="no-such-trail")) == ("TrailNotFoundException", 404)
    assert error(lambda: client.get_trail_status(Name="no-such-trail")) == ("TrailNotFoundException", 404)
    assert error(lambda: client.put_insight_selectors(
        TrailName="dup-trail", InsightSelectors=[{"InsightType": "ApiBurstInsight"}])) == ("InvalidInsightSelectorsException", 400)
    assert error(lambda: client.get_insight_selectors(TrailName="dup-trail")) == ("InsightNotEnabledException", 400)


def series_analysed(server):
    out = server.trailsight("detect", "--trail", "demo", "--now", "2026-03-10T18:00:00Z").stdout.decode()
    return int(out.split("trail demo: ")[1].split(" series analysed")[0])


def test_selectors_set_through_the_api_are_the_stored_settings_detection_uses(server, client):
    both = series_analysed(server)
    client.put_insight_selectors(TrailName="demo", InsightSelectors=[{"InsightType": "ApiErrorRateInsight"}])
    try:
        errors_only = series_analysed(server)
        assert 0 < errors_only < both, (errors_only, both)
        assert client.get_insight_selectors(TrailName="demo")["InsightSelectors"] == [{"InsightType": "ApiErrorRateInsight"}]
        client.put_insight_selectors(TrailName="demo", InsightSelectors=[])
        assert series_analysed(server) == 0, "an empty selector list turns Insights off"
    finally:
        client.put_insight_selectors(TrailName="demo", InsightSelectors=[
            {"InsightType": "ApiCallRateInsight"}, {"InsightType": "ApiErrorRateInsight"}])


def test_list_trails_pages_and_every_answer_has_a_request_id(aws, client):
    # The first call many scripts make, with the CLI's own paginator.
    listed = aws.json("list-trails")["Trails"]
    described = client.describe_trails()["trailList"]
    assert sorted(t["Name"] for t in listed) == sorted(t["Name"] for t in described)
    for t in listed:
        assert set(t) == {"TrailARN", "Name", "HomeRegion"}
        assert t["TrailARN"].endswith(f":trail/{t['Name']}")
    pages = list(client.get_paginator("list_trails").paginate())
    assert [t["Name"] for page in pages for t in page["Trails"]] == [t["Name"] for t in listed]

    # boto3 scripts log ResponseMetadata['RequestId']: present, a UUID, new each time, errors too.
    ids = [client.list_trails()["ResponseMetadata"]["RequestId"] for _ in range(2)]
    with pytest.raises(ClientError) as error:
        client.get_trail(Name="no-such-trail")
    ids.append(error.value.response["ResponseMetadata"]["RequestId"])
    assert len(set(ids)) == 3 and all(len(i) == 36 and i.count("-") == 4 for i in ids), ids
    with pytest.raises(ClientError) as error:
        client.list_trails(NextToken="forged")
    assert error.value.response["Error"]["Code"] == "InvalidTokenException"


def test_names_and_selector_combinations_are_refused_as_aws_refuses_them(client):
    def code(call):
        with pytest.raises(ClientError) as caught:
            call()
        return caught.value.response["Error"]["Code"]

    assert code(lambda: client.get_trail(Name="a b")) == "InvalidTrailNameException"
    assert code(lambda: client.get_trail(Name="no-such-trail")) == "TrailNotFoundException"
    assert code(lambda: client.put_insight_selectors(
        TrailName="demo", InsightSelectors=[{"InsightType": "ApiCallRateInsight"}] * 2)) == "InvalidInsightSelectorsException"
    assert code(lambda: client.put_insight_selectors(
        TrailName="demo", EventDataStore="arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/x",
        InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])) == "InvalidParameterCombinationException"
    assert code(lambda: client.put_insight_selectors(
        TrailName="no such", InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])) == "InvalidTrailNameException"
    # Nothing changed on the demo trail.
    assert {s["InsightType"] for s in client.get_insight_selectors(TrailName="demo")["InsightSelectors"]} == \
        {"ApiCallRateInsight", "ApiErrorRateInsight"}


def test_tags_are_added_listed_and_removed_as_an_audit_script_reads_them(aws, client):
    created = client.create_trail(Name="tagged-trail", S3BucketName="my-bucket", TagsList=[{"Key": "team", "Value": "sec"}])
    arn = created["TrailARN"]
    client.add_tags(ResourceId=arn, TagsList=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "secops"}])
    # The audit script's walk: DescribeTrails, GetTrailStatus, ListTags.
    for trail in client.describe_trails(trailNameList=["tagged-trail"])["trailList"]:
        client.get_trail_status(Name=trail["TrailARN"])
        listed = client.list_tags(ResourceIdList=[trail["TrailARN"]])["ResourceTagList"]
        assert listed == [{"ResourceId": arn, "TagsList": [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "secops"}]}]
    aws.json("remove-tags", "--resource-id", arn, "--tags-list", "Key=env")
    assert aws.json("list-tags", "--resource-id-list", arn)["ResourceTagList"][0]["TagsList"] == [{"Key": "team", "Value": "secops"}]

    def code(call):
        with pytest.raises(ClientError) as caught:
            call()
        return caught.value.response["Error"]["Code"]

    missing = arn.replace("tagged-trail", "no-such-trail")
    assert code(lambda: client.list_tags(ResourceIdList=[missing])) == "ResourceNotFoundException"
    assert code(lambda: client.add_tags(ResourceId=arn, TagsList=[{"Key": "aws:reserved", "Value": "x"}])) == "InvalidTagParameterException"
    many = [{"Key": f"k{i}", "Value": "v"} for i in range(50)]
    assert code(lambda: client.add_tags(ResourceId=arn, TagsList=many)) == "TagsLimitExceededException"
    assert client.list_tags(ResourceIdList=[arn])["ResourceTagList"][0]["TagsList"] == [{"Key": "team", "Value": "secops"}], \
        "a refused AddTags changes nothing"
    client.delete_trail(Name=arn)
