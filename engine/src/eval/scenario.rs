//! The labelled scenario: six weeks of background activity in two regions, harmless
//! recurring bursts and distractors that must not raise insights, and attacks placed at
//! known minutes, most of them real CloudTrail records (see [`super::attacks`]).
//!
//! Deterministic for a seed: the seed moves the noise and shifts each placed burst by up to
//! an hour, never the design.

use crate::demo::Rng;
use crate::time::{Minute, MINUTES_PER_DAY};

use super::attacks;
use super::world::{Call, Intent, World};

/// 2024-01-01T00:00Z, a Monday, so weekdays and weekends are where a reader expects them.
pub const START: Minute = 19_723 * MINUTES_PER_DAY;
/// Six weeks: four weeks of profile for the seasonal baseline, then more to judge.
pub const DAYS: i64 = 42;
pub const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];
const HOUR: i64 = 60;

/// One background API: peak calls per minute, and the share that fails with which code.
struct Api {
    call: Call<'static>,
    peak: f64,
    error: Option<(&'static str, f64)>,
}

const fn write(source: &'static str, name: &'static str, peak: f64) -> Api {
    Api { call: Call { source, name, read_only: Some(false), management: true }, peak, error: None }
}
const fn read(source: &'static str, name: &'static str, peak: f64) -> Api {
    Api { call: Call { source, name, read_only: Some(true), management: true }, peak, error: None }
}
const fn failing(api: Api, code: &'static str, share: f64) -> Api {
    Api { error: Some((code, share)), ..api }
}

/// Busy APIs (hundreds a minute), ordinary ones, and sparse ones called a few times a day.
const BACKGROUND: &[Api] = &[
    write("logs.amazonaws.com", "CreateLogStream", 150.0),
    write("ec2.amazonaws.com", "CreateTags", 3.0),
    failing(read("kms.amazonaws.com", "Decrypt", 300.0), "AccessDeniedException", 0.001),
    failing(read("sts.amazonaws.com", "AssumeRole", 40.0), "AccessDenied", 0.01),
    failing(read("autoscaling.amazonaws.com", "DescribeAutoScalingGroups", 2.0), "Throttling", 0.05),
    failing(read("iam.amazonaws.com", "GetRolePolicy", 0.3), "NoSuchEntityException", 0.2),
    failing(read("ec2.amazonaws.com", "GetPasswordData", 0.002), "Client.UnauthorizedOperation", 0.3),
    failing(read("ec2.amazonaws.com", "DescribeInstanceAttribute", 0.1), "Client.UnauthorizedOperation", 0.02),
    failing(read("secretsmanager.amazonaws.com", "GetSecretValue", 1.0), "ResourceNotFoundException", 0.01),
    write("ssm.amazonaws.com", "PutParameter", 0.05),
    write("ssm.amazonaws.com", "DeleteParameter", 0.005),
    write("ssm.amazonaws.com", "SendCommand", 0.02),
    write("ec2.amazonaws.com", "RunInstances", 0.02),
    write("ec2.amazonaws.com", "TerminateInstances", 0.02),
    write("ec2.amazonaws.com", "StartInstances", 0.01),
    write("ec2.amazonaws.com", "CreateSnapshot", 0.01),
    write("iam.amazonaws.com", "CreateRole", 0.003),
    write("iam.amazonaws.com", "AttachRolePolicy", 0.004),
    write("iam.amazonaws.com", "CreateAccessKey", 0.001),
    write("lambda.amazonaws.com", "UpdateFunctionCode20150331v2", 0.01),
    write("cloudformation.amazonaws.com", "UpdateStack", 0.003),
    write("autoscaling.amazonaws.com", "CompleteLifecycleAction", 0.01),
    write("dynamodb.amazonaws.com", "CreateBackup", 0.002),
    write("cloudtrail.amazonaws.com", "StopLogging", 0.0005),
];

/// Builds the scenario for `seed`.
pub fn build(seed: u64) -> World {
    let mut world = World::new(START, DAYS);
    let mut rng = Rng(seed ^ 0x7261_696c_7369_6768);
    background(&mut world, &mut rng);
    harmless(&mut world, &mut rng);
    attacks(&mut world, &mut rng);
    world
}

fn background(world: &mut World, rng: &mut Rng) {
    for region in REGIONS {
        for api in BACKGROUND {
            // Busy APIs drift from hour to hour more than a Poisson process would.
            let mut hour_factor = 1.0;
            for minute in world.start..world.end() {
                if minute % HOUR == 0 {
                    hour_factor = 0.8 + 0.4 * rng.unit();
                }
                let mean = api.peak * rhythm(minute) * if api.peak >= 1.0 { hour_factor } else { 1.0 };
                let (code, share) = api.error.unwrap_or(("", 0.0));
                let ok = rng.poisson(mean * (1.0 - share));
                let errors = if share > 0.0 { rng.poisson(mean * share) } else { 0 };
                world.add(region, api.call, minute, ok, errors, api.error.map(|_| code), None);
            }
        }
    }
}

/// Adds `per_minute` calls per minute (Poisson noise around it) over `minutes` from `at`.
#[allow(clippy::too_many_arguments)]
fn burst(
    world: &mut World,
    rng: &mut Rng,
    tag: usize,
    region: &'static str,
    call: Call<'static>,
    at: Minute,
    per_minute: &[f64],
    error: Option<&str>,
) {
    for (i, &mean) in per_minute.iter().enumerate() {
        let n = rng.poisson(mean);
        let (ok, errors) = if error.is_some() { (0, n) } else { (n, 0) };
        world.add(region, call, at + i as i64, ok, errors, error, Some(tag));
    }
}

/// Activity level at a minute: a working-day hump, quiet nights, half-busy weekends.
fn rhythm(minute: Minute) -> f64 {
    let hour = (minute - START).rem_euclid(MINUTES_PER_DAY) as f64 / 60.0;
    let weekend = (minute - START).div_euclid(MINUTES_PER_DAY) % 7 >= 5;
    let working = (-((hour - 13.0) / 3.5).powi(2)).exp();
    (0.15 + 0.85 * working) * if weekend { 0.5 } else { 1.0 }
}

fn day_at(day: i64, hour: i64, minute: i64) -> Minute {
    START + day * MINUTES_PER_DAY + hour * HOUR + minute
}

fn harmless(world: &mut World, rng: &mut Rng) {
    let backup = write("dynamodb.amazonaws.com", "CreateBackup", 0.0).call;
    let lifecycle = write("autoscaling.amazonaws.com", "CompleteLifecycleAction", 0.0).call;
    let run = write("ec2.amazonaws.com", "RunInstances", 0.0).call;
    let deploy = [
        write("cloudformation.amazonaws.com", "UpdateStack", 0.0).call,
        write("lambda.amazonaws.com", "UpdateFunctionCode20150331v2", 0.0).call,
    ];
    for region in REGIONS {
        let nightly = world.tag(format!("nightly backup job {region}"), Intent::Harmless);
        let scaling = world.tag(format!("autoscaling at 08:00 and 18:00 {region}"), Intent::Harmless);
        let weekly = world.tag(format!("weekly Tuesday deploy {region}"), Intent::Harmless);
        for day in 0..DAYS {
            burst(world, rng, nightly, region, backup, day_at(day, 1, 0), &[25.0; 4], None);
            let weekday = day % 7 < 5;
            for hour in [8, 18].into_iter().filter(|_| weekday) {
                for call in [lifecycle, run] {
                    burst(world, rng, scaling, region, call, day_at(day, hour, 0), &[10.0; 3], None);
                }
            }
            if day % 7 == 1 {
                // Deploys start when the pipeline gets there: 10:00 give or take 40 minutes.
                let at = day_at(day, 9, 20 + rng.below(80) as i64);
                for call in deploy {
                    burst(world, rng, weekly, region, call, at, &[12.0; 10], None);
                }
            }
        }
    }
    let adhoc = world.tag("batch job at random times, three a day", Intent::Harmless);
    let send = write("ssm.amazonaws.com", "SendCommand", 0.0).call;
    for day in 0..DAYS {
        for _ in 0..3 {
            let at = day_at(day, 0, rng.below(MINUTES_PER_DAY as usize) as i64);
            burst(world, rng, adhoc, REGIONS[day as usize % 2], send, at, &[10.0; 3], None);
        }
    }
    // Console page loads: hundreds of reads a minute; old records without readOnly, whose
    // Describe/List names make them reads, so the call-rate type must not see them.
    let console = world.tag("console page loads (reads without readOnly)", Intent::Harmless);
    for (i, name) in ["DescribeInstances", "ListRoles", "DescribeSecurityGroups"].iter().enumerate() {
        let call = Call { source: "ec2.amazonaws.com", name, read_only: None, management: true };
        let at = day_at(9 + 5 * i as i64, 14, rng.below(60) as i64);
        burst(world, rng, console, "us-east-1", call, at, &[400.0, 250.0], None);
    }
    let reads = world.tag("read-only burst (DescribeInstances)", Intent::Harmless);
    let describe = read("ec2.amazonaws.com", "DescribeInstances", 0.0).call;
    burst(world, rng, reads, "eu-west-1", describe, day_at(23, 16, 0), &[600.0; 3], None);
    let data = world.tag("data-event burst (S3 PutObject)", Intent::Harmless);
    let put_object = Call { source: "s3.amazonaws.com", name: "PutObject", read_only: Some(false), management: false };
    burst(world, rng, data, "us-east-1", put_object, day_at(26, 3, 10), &[2000.0; 5], None);
    // A burst on day 5 (before anything is judged) repeated at the same hour a week later.
    let snapshot = write("ec2.amazonaws.com", "CreateSnapshot", 0.0).call;
    let first = world.tag("snapshot burst, first seen before judging", Intent::Harmless);
    burst(world, rng, first, "us-east-1", snapshot, day_at(5, 14, 0), &[20.0; 4], None);
    let repeat = world.tag("snapshot burst equal to last week's", Intent::Harmless);
    burst(world, rng, repeat, "us-east-1", snapshot, day_at(12, 14, 0), &[20.0; 4], None);
}

fn attacks(world: &mut World, rng: &mut Rng) {
    let jitter = |rng: &mut Rng| rng.below(60) as i64;
    attacks::place_invictus(world, "invictus at its real time", "us-east-1", day_at(30, 11, 54));
    let at = day_at(16, 3, 20 + jitter(rng));
    attacks::place_invictus(world, "invictus at night", "eu-west-1", at);
    let at = day_at(40, 15, jitter(rng));
    attacks::place_invictus(world, "invictus on a Saturday", "us-east-1", at);
    // A rehearsal, then the real run a day later at the same time of day: both are attacks,
    // and the first must not make the second look routine.
    let at = day_at(22, 14, jitter(rng));
    attacks::place_invictus(world, "invictus rehearsal", "eu-west-1", at);
    attacks::place_invictus(world, "invictus a day after its rehearsal", "eu-west-1", at + 24 * 60 + 2);
    for (i, technique) in attacks::STRATUS.iter().enumerate() {
        let at = day_at(10 + 4 * i as i64, 9 + 2 * i as i64, jitter(rng));
        attacks::place_stratus(world, technique, REGIONS[i % 2], at);
    }

    for p in PLANNED {
        let tag = world.tag(p.what, p.intent);
        let at = day_at(p.day, p.hour, p.minute.unwrap_or_else(|| jitter(rng)));
        let per_minute: Vec<f64> = match p.rates {
            Rates::Flat(rate, minutes) => vec![rate; minutes],
            Rates::Ramp(step, minutes) => (1..=minutes).map(|i| step * i as f64).collect(),
        };
        burst(world, rng, tag, p.region, p.call, at, &per_minute, p.error);
    }
}

/// Calls per minute of a synthetic burst: steady for some minutes, or rising by a step.
enum Rates {
    Flat(f64, usize),
    Ramp(f64, usize),
}

/// A synthetic burst at a known time (`minute: None` is a random minute of that hour).
struct Planned {
    what: &'static str,
    intent: Intent,
    region: &'static str,
    call: Call<'static>,
    error: Option<&'static str>,
    day: i64,
    hour: i64,
    minute: Option<i64>,
    rates: Rates,
}

const fn planned(
    what: &'static str,
    region: &'static str,
    call: Call<'static>,
    at: (i64, i64, Option<i64>),
    rates: Rates,
) -> Planned {
    Planned { what, intent: Intent::Attack, region, call, error: None, day: at.0, hour: at.1, minute: at.2, rates }
}
const fn failing_with(error: &'static str, p: Planned) -> Planned {
    Planned { error: Some(error), ..p }
}

const ASSUME_ROLE: Call = read("sts.amazonaws.com", "AssumeRole", 0.0).call;
const LOG_STREAMS: Call = write("logs.amazonaws.com", "CreateLogStream", 0.0).call;
const SNAPSHOTS: Call = write("ec2.amazonaws.com", "CreateSnapshot", 0.0).call;

const PLANNED: &[Planned] = &[
    failing_with(
        "AccessDenied",
        planned("AccessDenied storm on a busy API", "us-east-1", ASSUME_ROLE, (19, 15, Some(10)), Rates::Flat(60.0, 8)),
    ),
    failing_with(
        "AccessDenied",
        planned(
            "AccessDenied storm on a new API",
            "eu-west-1",
            read("iam.amazonaws.com", "ListUsers", 0.0).call,
            (33, 4, None),
            Rates::Flat(30.0, 3),
        ),
    ),
    failing_with(
        "ResourceNotFoundException",
        planned(
            "slow ramp of failing secret reads",
            "us-east-1",
            read("secretsmanager.amazonaws.com", "GetSecretValue", 0.0).call,
            (27, 9, Some(0)),
            Rates::Ramp(1.0, 40),
        ),
    ),
    planned("slow ramp on a busy API at night", "eu-west-1", LOG_STREAMS, (35, 3, None), Rates::Ramp(20.0, 30)),
    planned("busy API doubled at night", "us-east-1", LOG_STREAMS, (24, 2, None), Rates::Flat(150.0, 10)),
    planned(
        "instances launched on a Sunday",
        "eu-west-1",
        write("ec2.amazonaws.com", "RunInstances", 0.0).call,
        (20, 11, None),
        Rates::Flat(15.0, 5),
    ),
    planned("snapshot burst never seen before", "eu-west-1", SNAPSHOTS, (29, 14, Some(0)), Rates::Flat(20.0, 4)),
    planned(
        "modest burst on an ordinary API",
        "us-east-1",
        write("ec2.amazonaws.com", "CreateTags", 0.0).call,
        (31, 14, None),
        Rates::Flat(12.0, 3),
    ),
    failing_with(
        "AccessDeniedException",
        planned(
            "small AccessDenied storm on a busy API",
            "eu-west-1",
            read("kms.amazonaws.com", "Decrypt", 0.0).call,
            (22, 13, None),
            Rates::Flat(8.0, 2),
        ),
    ),
    planned(
        "six access keys in one minute",
        "us-east-1",
        write("iam.amazonaws.com", "CreateAccessKey", 0.0).call,
        (34, 20, None),
        Rates::Flat(6.0, 1),
    ),
    Planned {
        intent: Intent::Harmless,
        ..planned(
            "the same snapshot burst a week later",
            "eu-west-1",
            SNAPSHOTS,
            (36, 14, Some(0)),
            Rates::Flat(20.0, 4),
        )
    },
];
