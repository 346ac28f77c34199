//! Demo history: two weeks of realistic background activity with a real attack placed in it.
//!
//! Deterministic for a seed and an end time. The background covers a few dozen APIs with a
//! daily rhythm (busier in working hours, quieter at weekends), Poisson count noise, sparse
//! APIs called a few times a day, harmless nightly batch jobs, error codes at their usual
//! rates, and S3 data events (never analysed). The attack is real: every PutParameter,
//! DeleteParameter and GetPasswordData record of the Invictus IR dataset (see
//! `fixtures/invictus/README.md`), unmodified but for their time, shifted as a whole so that
//! its first record falls at [`DemoPlan::attack_start`].

use std::io::Read;

use serde_json::{json, Value};

use crate::time::{format_millis, millis_of_minute, minute_of_millis, Minute, MINUTES_PER_DAY};

/// The real attack records, gzip JSON `{"Records":[...]}`.
const ATTACK_BURSTS: &[u8] = include_bytes!("../fixtures/invictus/attack-bursts.json.gz");

pub const DEMO_ACCOUNT: &str = "123837392027";
pub const DEMO_REGION: &str = "us-east-1";
pub const DEMO_DAYS: i64 = 14;

/// Where the demo's history sits in time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemoPlan {
    pub seed: u64,
    /// The first minute of background history.
    pub start: Minute,
    /// The minute after the last background minute.
    pub end: Minute,
    /// The minute of the attack's first record.
    pub attack_start: Minute,
}

impl DemoPlan {
    /// Two weeks ending at `end_ms`, with the attack at the time of day it really happened
    /// (from 11:54 UTC), on the last day on which it lies entirely in the past.
    pub fn ending_at(seed: u64, end_ms: i64) -> DemoPlan {
        let end = minute_of_millis(end_ms);
        let attack_time_of_day = attack_first_minute().rem_euclid(MINUTES_PER_DAY);
        // The attack lasts under an hour; leave it an hour to end before `end`.
        let attack_day = (end - 60 - attack_time_of_day).div_euclid(MINUTES_PER_DAY);
        DemoPlan {
            seed,
            start: end - DEMO_DAYS * MINUTES_PER_DAY,
            end,
            attack_start: attack_day * MINUTES_PER_DAY + attack_time_of_day,
        }
    }
}

/// One background API: what it is and how often it is called.
struct Api {
    source: &'static str,
    name: &'static str,
    read_only: bool,
    /// Mean calls per minute at the daily peak.
    peak_rate: f64,
    /// Share of calls that fail, and with what.
    error: Option<(&'static str, f64)>,
    /// Data events are never analysed by the management insight types.
    data_event: bool,
}

const fn api(source: &'static str, name: &'static str, read_only: bool, peak_rate: f64) -> Api {
    Api { source, name, read_only, peak_rate, error: None, data_event: false }
}

const APIS: &[Api] = &[
    api("ec2.amazonaws.com", "DescribeInstances", true, 1.2),
    api("ec2.amazonaws.com", "DescribeSecurityGroups", true, 0.3),
    api("ec2.amazonaws.com", "DescribeVolumes", true, 0.2),
    api("ec2.amazonaws.com", "RunInstances", false, 0.02),
    api("ec2.amazonaws.com", "TerminateInstances", false, 0.02),
    api("ec2.amazonaws.com", "CreateTags", false, 0.06),
    api("ec2.amazonaws.com", "GetPasswordData", true, 0.002),
    api("ssm.amazonaws.com", "GetParameter", true, 1.0),
    api("ssm.amazonaws.com", "DescribeParameters", true, 0.2),
    api("ssm.amazonaws.com", "PutParameter", false, 0.03),
    api("ssm.amazonaws.com", "DeleteParameter", false, 0.005),
    api("s3.amazonaws.com", "ListBuckets", true, 0.2),
    api("s3.amazonaws.com", "CreateBucket", false, 0.002),
    api("s3.amazonaws.com", "PutBucketPolicy", false, 0.002),
    api("iam.amazonaws.com", "GetUser", true, 0.2),
    api("iam.amazonaws.com", "ListRoles", true, 0.1),
    api("iam.amazonaws.com", "CreateRole", false, 0.003),
    api("iam.amazonaws.com", "AttachRolePolicy", false, 0.004),
    api("iam.amazonaws.com", "CreateAccessKey", false, 0.001),
    Api { error: Some(("NoSuchEntityException", 0.2)), ..api("iam.amazonaws.com", "GetRolePolicy", true, 0.1) },
    Api { error: Some(("AccessDenied", 0.01)), ..api("sts.amazonaws.com", "AssumeRole", true, 0.8) },
    api("sts.amazonaws.com", "GetCallerIdentity", true, 0.4),
    api("kms.amazonaws.com", "Decrypt", true, 1.5),
    api("kms.amazonaws.com", "GenerateDataKey", true, 0.5),
    api("kms.amazonaws.com", "CreateGrant", false, 0.01),
    api("lambda.amazonaws.com", "ListFunctions20150331", true, 0.1),
    api("lambda.amazonaws.com", "UpdateFunctionCode20150331v2", false, 0.01),
    api("logs.amazonaws.com", "CreateLogStream", false, 0.4),
    api("logs.amazonaws.com", "PutRetentionPolicy", false, 0.002),
    api("cloudformation.amazonaws.com", "DescribeStacks", true, 0.3),
    api("cloudformation.amazonaws.com", "UpdateStack", false, 0.003),
    api("secretsmanager.amazonaws.com", "GetSecretValue", true, 0.4),
    api("dynamodb.amazonaws.com", "DescribeTable", true, 0.2),
    api("rds.amazonaws.com", "DescribeDBInstances", true, 0.15),
    Api { error: Some(("ThrottlingException", 0.05)), ..api("autoscaling.amazonaws.com", "DescribeAutoScalingGroups", true, 0.4) },
    api("autoscaling.amazonaws.com", "CompleteLifecycleAction", false, 0.01),
    Api { data_event: true, ..api("s3.amazonaws.com", "GetObject", true, 1.0) },
    Api { data_event: true, ..api("s3.amazonaws.com", "PutObject", false, 0.6) },
];

/// Harmless recurring work: `(api index, UTC hour, minute, minutes, calls per minute)`.
/// A nightly batch that writes log streams and an early deploy that reads parameters.
const NIGHTLY: &[(usize, i64, i64, i64, f64)] = &[(27, 3, 0, 3, 15.0), (7, 2, 30, 5, 20.0)];

const IDENTITIES: &[(&str, &str)] = &[
    ("AssumedRole", "arn:aws:sts::123837392027:assumed-role/app-server/i-0a1b2c3d4e5f60718"),
    ("AssumedRole", "arn:aws:sts::123837392027:assumed-role/ci-deployer/github-actions"),
    ("IAMUser", "arn:aws:iam::123837392027:user/ops-alice"),
    ("AssumedRole", "arn:aws:sts::123837392027:assumed-role/AWSServiceRoleForAutoScaling/AutoScaling"),
];
const USER_AGENTS: &[&str] = &[
    "aws-sdk-go-v2/1.21.0 os/linux lang/go#1.21.1",
    "aws-cli/2.13.4 Python/3.11.4 Linux/6.1 exe/x86_64",
    "Boto3/1.28.17 md/Botocore#1.31.17 Python/3.11.4",
    "autoscaling.amazonaws.com",
];

/// SplitMix64: tiny, fast, and the same sequence on every platform and Rust version.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// A Poisson draw (Knuth for small means, a rounded normal for large ones).
    pub(crate) fn poisson(&mut self, mean: f64) -> u32 {
        if mean > 30.0 {
            let normal = (-2.0 * self.unit().max(1e-300).ln()).sqrt()
                * (2.0 * std::f64::consts::PI * self.unit()).cos();
            return (mean + mean.sqrt() * normal).round().max(0.0) as u32;
        }
        let (limit, mut product, mut k) = ((-mean).exp(), self.unit(), 0);
        while product > limit {
            product *= self.unit();
            k += 1;
        }
        k
    }
}

/// Activity level at a minute: a working-day hump, quiet nights, half-busy weekends.
pub(crate) fn rhythm(minute: Minute) -> f64 {
    let hour = minute.rem_euclid(MINUTES_PER_DAY) as f64 / 60.0;
    let day = minute.div_euclid(MINUTES_PER_DAY);
    let weekend = matches!((day + 4).rem_euclid(7), 5 | 6); // 1970-01-01 was a Thursday
    let working = (-((hour - 13.0) / 3.5).powi(2)).exp();
    (0.15 + 0.85 * working) * if weekend { 0.5 } else { 1.0 }
}

fn background_record(rng: &mut Rng, api: &Api, minute: Minute) -> Value {
    let ms = millis_of_minute(minute) + rng.below(60_000) as i64;
    let who = rng.below(if api.source == "autoscaling.amazonaws.com" { 4 } else { 3 });
    let (identity_type, arn) = IDENTITIES[who];
    let mut record = json!({
        "eventVersion": "1.08",
        "userIdentity": {
            "type": identity_type,
            "arn": arn,
            "accountId": DEMO_ACCOUNT,
            "accessKeyId": format!("ASIA{:016X}", (who as u64 + 1) * 0x9E37_79B9),
        },
        "eventTime": format_millis(ms),
        "eventSource": api.source,
        "eventName": api.name,
        "awsRegion": DEMO_REGION,
        "sourceIPAddress": format!("10.0.{}.{}", who, 10 + who),
        "userAgent": USER_AGENTS[who],
        "requestParameters": null,
        "responseElements": null,
        "requestID": uuid_like(rng),
        "eventID": uuid_like(rng),
        "readOnly": api.read_only,
        "eventType": "AwsApiCall",
        "managementEvent": !api.data_event,
        "recipientAccountId": DEMO_ACCOUNT,
        "eventCategory": if api.data_event { "Data" } else { "Management" },
    });
    if let Some((kind, arn)) = resource_of(api.name, who) {
        record["resources"] = json!([{ "accountId": DEMO_ACCOUNT, "type": kind, "ARN": arn }]);
    }
    if let Some((code, share)) = api.error {
        if rng.unit() < share {
            record["errorCode"] = json!(code);
            record["errorMessage"] = json!(format!("{code} (demo)"));
        }
    }
    record
}

/// The resource a background call touches, as CloudTrail lists it in `resources`.
fn resource_of(api_name: &str, who: usize) -> Option<(&'static str, String)> {
    let account = DEMO_ACCOUNT;
    match api_name {
        "Decrypt" | "GenerateDataKey" | "CreateGrant" => Some((
            "AWS::KMS::Key",
            format!("arn:aws:kms:{DEMO_REGION}:{account}:key/0f6e5d4c-3b2a-4190-8a7b-6c5d4e3f2a1{who}"),
        )),
        "CreateBucket" | "PutBucketPolicy" => Some(("AWS::S3::Bucket", format!("arn:aws:s3:::demo-logs-{who}"))),
        "RunInstances" | "TerminateInstances" | "CreateTags" => Some((
            "AWS::EC2::Instance",
            format!("arn:aws:ec2:{DEMO_REGION}:{account}:instance/i-0a1b2c3d4e5f6071{who}"),
        )),
        _ => None,
    }
}

fn uuid_like(rng: &mut Rng) -> String {
    let (a, b) = (rng.next(), rng.next());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}

fn bundled_attack() -> Vec<Value> {
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(ATTACK_BURSTS)
        .read_to_end(&mut text)
        .expect("the bundled fixture is valid gzip");
    let doc: Value = serde_json::from_slice(&text).expect("the bundled fixture is valid JSON");
    doc["Records"].as_array().cloned().unwrap_or_default()
}

fn time_of(record: &Value) -> i64 {
    crate::time::parse_millis(record["eventTime"].as_str().unwrap_or("")).unwrap_or(0)
}

/// The minute of the attack's first record as it really happened.
fn attack_first_minute() -> Minute {
    minute_of_millis(bundled_attack().iter().map(time_of).min().unwrap_or(0))
}

/// The attack records, time-shifted as a whole so the first one falls in `attack_start`.
pub fn attack_records(attack_start: Minute) -> Vec<Value> {
    let mut records = bundled_attack();
    let first = records.iter().map(time_of).min().unwrap_or(0);
    let shift = millis_of_minute(attack_start) - millis_of_minute(minute_of_millis(first));
    for r in &mut records {
        let shifted = time_of(r) + shift;
        r["eventTime"] = json!(format_millis(shifted));
    }
    records
}

/// Generates the demo as hourly `{"Records":[...]}` documents, like delivered log files:
/// `(UTC hour start in minutes, document)`, in time order.
pub fn generate(plan: &DemoPlan) -> Vec<(Minute, Vec<u8>)> {
    let mut rng = Rng(plan.seed);
    let mut hours: std::collections::BTreeMap<Minute, Vec<Value>> = Default::default();
    for minute in plan.start..plan.end {
        let level = rhythm(minute);
        let hour = minute - minute.rem_euclid(60);
        for api in APIS {
            for _ in 0..rng.poisson(api.peak_rate * level) {
                hours.entry(hour).or_default().push(background_record(&mut rng, api, minute));
            }
        }
        let time_of_day = minute.rem_euclid(MINUTES_PER_DAY);
        for &(api, hour_of_day, at, length, rate) in NIGHTLY {
            let from = hour_of_day * 60 + at;
            if (from..from + length).contains(&time_of_day) {
                for _ in 0..rng.poisson(rate) {
                    hours.entry(hour).or_default().push(background_record(&mut rng, &APIS[api], minute));
                }
            }
        }
    }
    for record in attack_records(plan.attack_start) {
        let minute = minute_of_millis(time_of(&record));
        hours.entry(minute - minute.rem_euclid(60)).or_default().push(record);
    }
    hours
        .into_iter()
        .map(|(hour, records)| {
            let doc = serde_json::to_vec(&json!({ "Records": records })).expect("JSON values serialise");
            (hour, doc)
        })
        .collect()
}

/// Stores the demo history in `trail`, one hourly document per transaction.
pub async fn load(
    store: &dyn crate::Store,
    trail: &str,
    plan: &DemoPlan,
) -> Result<crate::ingest::IngestSummary, crate::StoreError> {
    // The demo is asked for by name: it fills a stopped trail too.
    let selectors = crate::ingest::open_trail(store, trail, true).await?;
    let mut summary = crate::ingest::IngestSummary::default();
    for (hour, doc) in generate(plan) {
        let name = format!("demo {}", crate::time::format_minute(hour));
        summary.merge(crate::ingest::ingest_bytes(store, trail, &selectors, &name, doc).await?);
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::parse_document;

    const END: i64 = 1_700_000_000_000; // 2023-11-14T22:13:20Z

    #[test]
    fn the_same_seed_gives_the_same_history() {
        let plan = DemoPlan::ending_at(7, END);
        assert_eq!(generate(&plan), generate(&plan));
        assert_ne!(generate(&plan), generate(&DemoPlan { seed: 8, ..plan }));
    }

    #[test]
    fn the_attack_lands_at_its_minute_after_a_full_week() {
        let plan = DemoPlan::ending_at(7, END);
        assert_eq!(crate::time::format_minute(plan.attack_start), "2023-11-14T11:54:00Z", "the real time of day");
        assert!(plan.attack_start - plan.start > 7 * MINUTES_PER_DAY);
        let attack = attack_records(plan.attack_start);
        assert_eq!(attack.len(), 174);
        let puts_in_burst_minute = attack
            .iter()
            .filter(|r| r["eventName"] == "PutParameter")
            .filter(|r| r["eventTime"].as_str().unwrap().starts_with("2023-11-14T11:58"))
            .map(|r| r.get("errorCode").is_some())
            .fold((0, 0), |(ok, failed), throttled| if throttled { (ok, failed + 1) } else { (ok + 1, failed) });
        assert_eq!(puts_in_burst_minute, (42, 25), "the real burst keeps its shape");
    }

    #[test]
    fn every_generated_record_parses_and_the_volume_is_realistic() {
        let plan = DemoPlan::ending_at(1, END);
        let docs = generate(&plan);
        let mut total = 0;
        for (_, doc) in &docs {
            let parsed = parse_document(doc).unwrap();
            assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
            total += parsed.records.len();
        }
        assert!((50_000..250_000).contains(&total), "{total} records");
    }
}
