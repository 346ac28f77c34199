// A CloudTrail user's script written with the AWS SDK for JavaScript v3 (not botocore): it
// signs, serialises and parses on its own, so test_js_sdk.py can compare what it sees with
// what boto3 sees on the same server.
//   node sdk_client.mjs ENDPOINT KEY_ID SECRET   (or TRAILSIGHT_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)
// Prints one JSON summary on stdout; any unexpected SDK error ends it with a stack trace.
import {
  AddTagsCommand, CloudTrailClient, CreateTrailCommand, DeleteTrailCommand, DescribeTrailsCommand,
  GetInsightSelectorsCommand, GetTrailCommand, GetTrailStatusCommand, ListInsightsMetricDataCommand,
  ListTagsCommand, PutInsightSelectorsCommand, TrailNotFoundException, paginateListTrails, paginateLookupEvents,
} from "@aws-sdk/client-cloudtrail";

const [endpoint = process.env.TRAILSIGHT_ENDPOINT, accessKeyId = process.env.AWS_ACCESS_KEY_ID,
  secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY] = process.argv.slice(2);
const client = new CloudTrailClient({
  endpoint, region: "us-east-1", maxAttempts: 1, credentials: { accessKeyId, secretAccessKey },
});

const requestIds = {}; // operation -> $metadata.requestId of its (last) answer
async function call(Command, input) {
  const out = await client.send(new Command(input));
  requestIds[Command.name.replace(/Command$/, "")] = out.$metadata.requestId;
  return out;
}
async function trailNames() {
  const names = [];
  for await (const page of paginateListTrails({ client }, {})) {
    requestIds.ListTrails = page.$metadata.requestId;
    names.push(...page.Trails.map((t) => t.Name));
  }
  return names;
}

const name = `js-sdk-${Date.now()}`;
const created = await call(CreateTrailCommand, { Name: name, S3BucketName: "js-sdk-bucket" });
const arn = created.TrailARN;
await call(AddTagsCommand, { ResourceId: arn, TagsList: [{ Key: "client", Value: "aws-sdk-js-v3" }] });
const listedBefore = await trailNames();
const described = (await call(DescribeTrailsCommand, { trailNameList: [name] })).trailList;
const status = await call(GetTrailStatusCommand, { Name: arn });
const put = await call(PutInsightSelectorsCommand, { TrailName: name, InsightSelectors: [{ InsightType: "ApiCallRateInsight" }] });
const got = await call(GetInsightSelectorsCommand, { TrailName: name });
const tags = (await call(ListTagsCommand, { ResourceIdList: [arn] })).ResourceTagList;

// Every PutParameter around the demo's attack (its burst is PutParameter calls; the demo has
// no RunInstances then), 10 a page so the SDK's paginator follows NextToken.
const lookup = { eventIds: [], pages: 0 };
for await (const page of paginateLookupEvents({ client, pageSize: 10 }, {
  LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "PutParameter" }],
  StartTime: new Date("2026-03-10T11:00:00Z"), EndTime: new Date("2026-03-10T13:00:00Z"),
})) {
  requestIds.LookupEvents = page.$metadata.requestId;
  lookup.pages += 1;
  lookup.eventIds.push(...page.Events.map((e) => e.EventId));
}
lookup.count = lookup.eventIds.length;

const metric = await call(ListInsightsMetricDataCommand, {
  EventSource: "ssm.amazonaws.com", EventName: "PutParameter", InsightType: "ApiCallRateInsight",
  StartTime: new Date("2026-03-10T11:50:00Z"), EndTime: new Date("2026-03-10T12:15:00Z"), Period: 60,
});

// The error a script catches: the SDK maps __type to its own exception class.
let missing = null;
try {
  await client.send(new GetTrailCommand({ Name: "no-such-trail-js" }));
} catch (e) {
  missing = { name: e.name, isModeledClass: e instanceof TrailNotFoundException, fault: e.$fault,
    httpStatusCode: e.$metadata?.httpStatusCode, requestId: e.$metadata?.requestId, message: e.message };
}

await call(DeleteTrailCommand, { Name: arn });
const listedAfter = await trailNames();

console.log(JSON.stringify({
  name, created: { Name: created.Name, TrailARN: arn, S3BucketName: created.S3BucketName },
  listedBefore, listedAfter, described: described.map((t) => t.Name), isLogging: status.IsLogging,
  putSelectors: put.InsightSelectors, getSelectors: got.InsightSelectors, tags,
  lookup, metric: { Timestamps: metric.Timestamps.map((t) => t.toISOString()), Values: metric.Values },
  missing, requestIds,
}, null, 2));
