"""Authentication and the protocol's edges answer as AWS answers."""
import json

import pytest
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
import urllib.request
import urllib.error

from conftest import KEY_ID, SECRET, make_client


def code(call):
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_unsigned_and_wrongly_signed_requests_are_refused(server):
    unsigned = make_client(server, signature_version=UNSIGNED)
    assert code(lambda: unsigned.describe_trails()) == ("MissingAuthenticationTokenException", 400)
    wrong_secret = make_client(server, secret="not-the-secret")
    assert code(lambda: wrong_secret.describe_trails()) == ("InvalidSignatureException", 400)
    unknown_key = make_client(server, key_id="AKIAUNKNOWNKEY000000")
    assert code(lambda: unknown_key.describe_trails()) == ("UnrecognizedClientException", 400)


def test_a_region_this_server_does_not_serve_is_refused(server):
    # Once accepted and echoed into ARNs and HomeRegion; the server serves us-east-1 here.
    bogus = make_client(server, region="xx-bogus-9")
    assert code(lambda: bogus.describe_trails()) == ("InvalidSignatureException", 400)
    with pytest.raises(ClientError) as caught:
        make_client(server, region="eu-west-1").list_trails()
    assert "this server serves us-east-1" in caught.value.response["Error"]["Message"]
    assert "--aws-region" in caught.value.response["Error"]["Message"]
    served = make_client(server).list_trails()["Trails"]
    assert served and all(t["HomeRegion"] == "us-east-1" and ":us-east-1:" in t["TrailARN"] for t in served)


def test_unsupported_operations_say_so(client):
    # CloudTrail Lake is not something trailsight has: its operations say so.
    assert code(lambda: client.list_event_data_stores()) == ("UnsupportedOperationException", 400)


def signed_post(server, target, body):
    request = AWSRequest(method="POST", url=server.url + "/", data=json.dumps(body),
                         headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target})
    SigV4Auth(Credentials(KEY_ID, SECRET), "cloudtrail", "us-east-1").add_auth(request)
    prepared = urllib.request.Request(request.url, data=request.body, headers=dict(request.headers), method="POST")
    try:
        with urllib.request.urlopen(prepared) as response:
            return response.status, response.headers["Content-Type"], json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], json.loads(e.read())


def test_both_target_forms_and_error_bodies(server):
    status, content_type, body = signed_post(server, "CloudTrail_20131101.DescribeTrails", {})
    assert status == 200 and content_type == "application/x-amz-json-1.1"
    assert any(t["Name"] == "demo" for t in body["trailList"])
    status, _, body = signed_post(server, "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.GetTrail", {"Name": "nope"})
    assert status == 404 and body["__type"] == "TrailNotFoundException" and "nope" in body["Message"]
