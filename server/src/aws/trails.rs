//! Trail operations and insight selectors. A trail here is the same stored trail that
//! `trailsight ingest --trail` fills and the dashboard's settings edit.

use engine::store::{EventSelectors, InsightType, NewTrail, Store, Trail, TrailOptions};
use serde_json::{json, Value};

use super::{epoch_seconds, opt_str, AwsError, Context};

/// A trail name, or the name inside a trail ARN (`arn:aws:cloudtrail:...:trail/NAME`).
fn trail_name(input: &Value, member: &str) -> Result<String, AwsError> {
    let value = opt_str(input, member)?
        .ok_or_else(|| AwsError::new("TrailNotProvidedException", 404, format!("{member} is required.")))?;
    if value.starts_with("arn:") {
        return value
            .rsplit_once(":trail/")
            .map(|(_, name)| name.to_owned())
            .ok_or_else(|| AwsError::new("CloudTrailARNInvalidException", 400, format!("{value} is not a valid trail ARN.")));
    }
    Ok(value.to_owned())
}

/// AWS's naming rules, so a name that works here works in AWS too.
fn validate_name(name: &str) -> Result<(), AwsError> {
    let invalid = |why: &str| Err(AwsError::new("InvalidTrailNameException", 400, format!("Trail name {name:?} is not valid: {why}")));
    let bytes = name.as_bytes();
    if !(3..=128).contains(&name.len()) {
        return invalid("it must be 3 to 128 characters long.");
    }
    if !bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) {
        return invalid("only letters, digits, periods, underscores and dashes are allowed.");
    }
    if !bytes[0].is_ascii_alphanumeric() || !bytes[bytes.len() - 1].is_ascii_alphanumeric() {
        return invalid("it must start and end with a letter or a digit.");
    }
    if bytes.windows(2).any(|w| !w[0].is_ascii_alphanumeric() && !w[1].is_ascii_alphanumeric()) {
        return invalid("periods, underscores and dashes may not be adjacent.");
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return invalid("it may not look like an IP address.");
    }
    Ok(())
}

/// The stored trail; a name that is not there is InvalidTrailNameException when AWS could not
/// hold such a name either, else TrailNotFoundException. (Trails made by `ingest` may have
/// names AWS would refuse: they are still found.)
async fn existing(store: &dyn Store, ctx: &Context, name: &str) -> Result<Trail, AwsError> {
    match store.get_trail(name).await? {
        Some(trail) => Ok(trail),
        None => {
            validate_name(name)?;
            Err(AwsError::trail_not_found(name, &ctx.account_id, &ctx.region))
        }
    }
}

/// The members CreateTrail, UpdateTrail and the Trail shape share.
fn options_json(name: &str, bucket: Option<&str>, o: &TrailOptions, ctx: &Context) -> Value {
    let mut trail = json!({
        "Name": name,
        "S3BucketName": bucket.unwrap_or_default(),
        "IncludeGlobalServiceEvents": o.include_global_service_events,
        "IsMultiRegionTrail": o.is_multi_region_trail,
        "TrailARN": ctx.trail_arn(name),
        "LogFileValidationEnabled": o.log_file_validation_enabled,
        "IsOrganizationTrail": o.is_organization_trail,
    });
    let optional = [
        ("S3KeyPrefix", &o.s3_key_prefix),
        ("SnsTopicName", &o.sns_topic_name),
        ("KmsKeyId", &o.kms_key_id),
        ("CloudWatchLogsLogGroupArn", &o.cloud_watch_logs_log_group_arn),
        ("CloudWatchLogsRoleArn", &o.cloud_watch_logs_role_arn),
    ];
    for (member, value) in optional {
        if let Some(value) = value {
            trail[member] = json!(value);
        }
    }
    if let Some(topic) = &o.sns_topic_name {
        trail["SnsTopicARN"] = json!(if topic.starts_with("arn:") {
            topic.clone()
        } else {
            format!("arn:aws:sns:{}:{}:{topic}", ctx.region, ctx.account_id)
        });
    }
    trail
}

/// The trail `member` of `input` names (a name or an ARN), with AWS's errors when it is not
/// there: for operations outside this module that take a trail.
pub async fn existing_trail(store: &dyn Store, ctx: &Context, input: &Value, member: &str) -> Result<Trail, AwsError> {
    existing(store, ctx, &trail_name(input, member)?).await
}

fn trail_json(t: &Trail, ctx: &Context) -> Value {
    let mut trail = options_json(&t.name, t.s3_bucket.as_deref(), &t.options, ctx);
    trail["HomeRegion"] = json!(ctx.region);
    trail["HasCustomEventSelectors"] = json!(t.event_selectors.is_custom());
    trail["HasInsightSelectors"] = json!(!t.insight_types.is_empty());
    trail
}

/// An optional boolean member.
fn opt_bool(input: &Value, name: &str) -> Result<Option<bool>, AwsError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(AwsError::serialization(format!("{name} must be true or false."))),
    }
}

/// AWS's bucket naming rules (the part that can be checked without S3).
fn check_bucket(bucket: &str) -> Result<(), AwsError> {
    let b = bucket.as_bytes();
    let ok = (3..=63).contains(&b.len())
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'-'))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && !bucket.contains("..");
    if ok {
        Ok(())
    } else {
        Err(AwsError::new(
            "InvalidS3BucketNameException",
            400,
            format!("{bucket:?} is not a valid bucket name: 3 to 63 lowercase letters, digits, dots and dashes, starting and ending with a letter or digit."),
        ))
    }
}

/// Applies the CreateTrail/UpdateTrail option members present in `input` to `options`,
/// checked as AWS checks them. An empty string clears an optional member (as UpdateTrail
/// does on AWS).
fn apply_options(input: &Value, options: &mut TrailOptions) -> Result<(), AwsError> {
    let flags = [
        ("IsMultiRegionTrail", &mut options.is_multi_region_trail),
        ("IncludeGlobalServiceEvents", &mut options.include_global_service_events),
        ("EnableLogFileValidation", &mut options.log_file_validation_enabled),
        ("IsOrganizationTrail", &mut options.is_organization_trail),
    ];
    for (member, slot) in flags {
        if let Some(value) = opt_bool(input, member)? {
            *slot = value;
        }
    }
    let texts = [
        ("S3KeyPrefix", 200, "InvalidS3PrefixException", &mut options.s3_key_prefix),
        ("SnsTopicName", 256, "InvalidSnsTopicNameException", &mut options.sns_topic_name),
        ("KmsKeyId", 2048, "InvalidKmsKeyIdException", &mut options.kms_key_id),
        ("CloudWatchLogsLogGroupArn", 2048, "InvalidCloudWatchLogsLogGroupArnException", &mut options.cloud_watch_logs_log_group_arn),
        ("CloudWatchLogsRoleArn", 2048, "InvalidCloudWatchLogsRoleArnException", &mut options.cloud_watch_logs_role_arn),
    ];
    for (member, max, error, slot) in texts {
        match opt_str(input, member)? {
            None => {}
            Some("") => *slot = None,
            Some(value) if value.chars().count() > max => {
                return Err(AwsError::new(error, 400, format!("{member} is longer than {max} characters.")))
            }
            Some(value) => *slot = Some(value.to_owned()),
        }
    }
    // arn:<partition>:<service>:..., in any partition (aws, aws-cn, aws-us-gov).
    let is_arn_of = |value: &Option<String>, service: &str| {
        value.as_deref().is_none_or(|v| {
            let mut parts = v.split(':');
            parts.next() == Some("arn") && parts.next().is_some_and(|p| p.starts_with("aws")) && parts.next() == Some(service)
        })
    };
    if !is_arn_of(&options.cloud_watch_logs_log_group_arn, "logs") {
        return Err(AwsError::new(
            "InvalidCloudWatchLogsLogGroupArnException",
            400,
            "CloudWatchLogsLogGroupArn must be a log group ARN (arn:aws:logs:...).",
        ));
    }
    if !is_arn_of(&options.cloud_watch_logs_role_arn, "iam") {
        return Err(AwsError::new("InvalidCloudWatchLogsRoleArnException", 400, "CloudWatchLogsRoleArn must be a role ARN (arn:aws:iam::...)."));
    }
    match (&options.cloud_watch_logs_log_group_arn, &options.cloud_watch_logs_role_arn) {
        (Some(_), None) => {
            Err(AwsError::new("InvalidCloudWatchLogsRoleArnException", 400, "CloudWatchLogsLogGroupArn needs CloudWatchLogsRoleArn too."))
        }
        (None, Some(_)) => Err(AwsError::new(
            "InvalidCloudWatchLogsLogGroupArnException",
            400,
            "CloudWatchLogsRoleArn needs CloudWatchLogsLogGroupArn too.",
        )),
        _ => Ok(()),
    }
}

/// CreateTrail: kept with its options and tags. As on AWS, the trail keeps management events
/// only, has no insight selectors, and does not log (take events) until StartLogging.
pub async fn create_trail(store: &dyn Store, ctx: &Context, input: &Value) -> Result<Value, AwsError> {
    let name = opt_str(input, "Name")?.ok_or_else(|| AwsError::invalid_parameter("Name is required."))?;
    validate_name(name)?;
    let bucket = opt_str(input, "S3BucketName")?
        .ok_or_else(|| AwsError::new("InvalidS3BucketNameException", 400, "S3BucketName is required."))?;
    check_bucket(bucket)?;
    // Checked before anything is stored: a bad option or tag creates no trail.
    let mut options = TrailOptions::aws_default();
    apply_options(input, &mut options)?;
    let tags = tags_list(input, true)?;
    let new = NewTrail {
        name,
        s3_bucket: Some(bucket),
        logging: false,
        options: Some(&options),
        event_selectors: &EventSelectors::aws_default(),
    };
    store.create_trail(&new).await.map_err(|e| match e {
        engine::StoreError::TrailExists(_) => AwsError::new(
            "TrailAlreadyExistsException",
            400,
            format!("Trail {} already exists for customer: {}", name, ctx.account_id),
        ),
        other => other.into(),
    })?;
    store.set_insight_types(name, &[]).await?;
    store.tags().add_tags(name, &tags).await?;
    Ok(options_json(name, Some(bucket), &options, ctx))
}

/// UpdateTrail: changes the members given and keeps the rest.
pub async fn update_trail(store: &dyn Store, ctx: &Context, input: &Value) -> Result<Value, AwsError> {
    let name = trail_name(input, "Name")?;
    let trail = existing(store, ctx, &name).await?;
    let mut options = trail.options.clone();
    apply_options(input, &mut options)?;
    let bucket = match opt_str(input, "S3BucketName")? {
        Some(bucket) => {
            check_bucket(bucket)?;
            Some(bucket.to_owned())
        }
        None => trail.s3_bucket.clone(),
    };
    store.update_trail(&name, bucket.as_deref(), &options).await?;
    Ok(options_json(&name, bucket.as_deref(), &options, ctx))
}

pub async fn describe_trails(store: &dyn Store, ctx: &Context, input: &Value) -> Result<Value, AwsError> {
    let wanted: Option<Vec<String>> = match input.get("trailNameList") {
        Some(Value::Array(names)) if !names.is_empty() => Some(
            names
                .iter()
                .map(|n| trail_name(&json!({ "n": n }), "n"))
                .collect::<Result<_, _>>()?,
        ),
        _ => None,
    };
    let trails: Vec<Value> = store
        .list_trails()
        .await?
        .iter()
        .filter(|t| wanted.as_ref().is_none_or(|w| w.contains(&t.name)))
        .map(|t| trail_json(t, ctx))
        .collect();
    Ok(json!({ "trailList": trails }))
}

/// ListTrails: every trail in one page (no NextToken is ever issued, so the aws CLI's and
/// boto3's paginators stop after it; a NextToken from elsewhere is refused).
pub async fn list_trails(store: &dyn Store, ctx: &Context, input: &Value) -> Result<Value, AwsError> {
    if opt_str(input, "NextToken")?.is_some() {
        return Err(AwsError::new("InvalidTokenException", 400, "The NextToken was not issued by this server."));
    }
    let trails: Vec<Value> = store
        .list_trails()
        .await?
        .iter()
        .map(|t| json!({ "TrailARN": ctx.trail_arn(&t.name), "Name": t.name, "HomeRegion": ctx.region }))
        .collect();
    Ok(json!({ "Trails": trails }))
}

pub async fn get_trail(store: &dyn Store, ctx: &Context, input: &Value) -> Result<Value, AwsError> {
    let trail = existing(store, ctx, &trail_name(input, "Name")?).await?;
    Ok(json!({ "Trail": trail_json(&trail, ctx) }))
}

pub async fn delete_trail(store: &dyn Store, ctx: &Context, input: &Value) -> Result<Value, AwsError> {
    let name = trail_name(input, "Name")?;
    existing(store, ctx, &name).await?;
    store.delete_trail(&name).await?;
    Ok(json!({}))
}

pub async fn get_trail_status(store: &dyn Store, ctx: &Context, input: &Value) -> Result<Value, AwsError> {
    let trail = existing(store, ctx, &trail_name(input, "Name")?).await?;
    let mut status = json!({ "IsLogging": trail.logging });
    let times = [
        ("StartLoggingTime", trail.start_logging_ms),
        ("StopLoggingTime", trail.stop_logging_ms),
        ("LatestDeliveryTime", trail.last_event_ms),
    ];
    for (member, ms) in times {
        if let Some(ms) = ms {
            status[member] = epoch_seconds(ms);
        }
    }
    Ok(status)
}

/// StartLogging/StopLogging: a stopped trail refuses pushes and ingest until started.
pub async fn set_logging(store: &dyn Store, ctx: &Context, input: &Value, logging: bool) -> Result<Value, AwsError> {
    let name = trail_name(input, "Name")?;
    existing(store, ctx, &name).await?;
    store.set_logging(&name, logging, ctx.now_ms).await?;
    Ok(json!({}))
}

pub async fn put_event_selectors(store: &dyn Store, ctx: &Context, input: &Value) -> Result<Value, AwsError> {
    let name = trail_name(input, "TrailName")?;
    existing(store, ctx, &name).await?;
    let selectors =
        EventSelectors::from_request(input).map_err(|why| AwsError::new("InvalidEventSelectorsException", 400, why))?;
    store.set_event_selectors(&name, &selectors).await?;
    let mut answer = selectors.to_response();
    answer["TrailARN"] = json!(ctx.trail_arn(&name));
    Ok(answer)
}

pub async fn get_event_selectors(store: &dyn Store, ctx: &Context, input: &Value) -> Result<Value, AwsError> {
    let trail = existing(store, ctx, &trail_name(input, "TrailName")?).await?;
    let mut answer = trail.event_selectors.to_response();
    answer["TrailARN"] = json!(ctx.trail_arn(&trail.name));
    Ok(answer)
}

fn selectors_json(types: &[InsightType]) -> Value {
    Value::Array(types.iter().map(|t| json!({ "InsightType": t.as_str() })).collect())
}

pub async fn put_insight_selectors(store: &dyn Store, ctx: &Context, input: &Value) -> Result<Value, AwsError> {
    if input.get("EventDataStore").is_some() || input.get("InsightsDestination").is_some() {
        return Err(AwsError::new(
            "InvalidParameterCombinationException",
            400,
            "EventDataStore and InsightsDestination are for CloudTrail Lake event data stores: with TrailName, give neither.",
        ));
    }
    let name = trail_name(input, "TrailName")?;
    existing(store, ctx, &name).await?;
    let invalid = |why: String| AwsError::new("InvalidInsightSelectorsException", 400, why);
    let Some(Value::Array(selectors)) = input.get("InsightSelectors") else {
        return Err(invalid("InsightSelectors is required: a list of {\"InsightType\": \"ApiCallRateInsight\" | \"ApiErrorRateInsight\"}.".into()));
    };
    let mut types = Vec::new();
    for selector in selectors {
        let kind = selector["InsightType"].as_str().unwrap_or_default();
        let parsed = InsightType::parse(kind).ok_or_else(|| {
            invalid(format!("{kind:?} is not an insight type: use ApiCallRateInsight or ApiErrorRateInsight."))
        })?;
        if types.contains(&parsed) {
            return Err(invalid(format!("{kind} is listed twice: give each insight type once.")));
        }
        types.push(parsed);
    }
    types.sort();
    store.set_insight_types(&name, &types).await?;
    Ok(json!({ "TrailARN": ctx.trail_arn(&name), "InsightSelectors": selectors_json(&types) }))
}

pub async fn get_insight_selectors(store: &dyn Store, ctx: &Context, input: &Value) -> Result<Value, AwsError> {
    let name = trail_name(input, "TrailName")?;
    let trail = existing(store, ctx, &name).await?;
    if trail.insight_types.is_empty() {
        return Err(AwsError::new(
            "InsightNotEnabledException",
            400,
            format!("Trail {} does not have Insights enabled. Enable Insights with PutInsightSelectors.", ctx.trail_arn(&name)),
        ));
    }
    Ok(json!({ "TrailARN": ctx.trail_arn(&name), "InsightSelectors": selectors_json(&trail.insight_types) }))
}

/// ListPublicKeys: the keys that sign a trail's digest files. trailsight reads logs and writes
/// no digest files, so there are none in any time range; the answer says so in AWS's shape
/// (tools that validate logs call this first and find nothing to check against).
pub async fn list_public_keys(input: &Value) -> Result<Value, AwsError> {
    if opt_str(input, "NextToken")?.is_some() {
        return Err(AwsError::new("InvalidTokenException", 400, "The NextToken was not issued by this server."));
    }
    let (start, end) = (super::opt_time_ms(input, "StartTime")?, super::opt_time_ms(input, "EndTime")?);
    if let (Some(start), Some(end)) = (start, end) {
        if start > end {
            return Err(AwsError::new("InvalidTimeRangeException", 400, "StartTime is later than EndTime."));
        }
    }
    Ok(json!({ "PublicKeyList": [] }))
}

/// A `TagsList` member: `[{"Key", "Value"}]` with AWS's limits (keys 1-128 characters, not
/// starting with `aws:`; values at most 256). Values are optional when removing.
fn tags_list(input: &Value, value_needed: bool) -> Result<Vec<(String, String)>, AwsError> {
    let invalid = |why: String| AwsError::new("InvalidTagParameterException", 400, why);
    let list = match input.get("TagsList") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(AwsError::serialization("TagsList must be a list.")),
    };
    if list.len() > engine::store::tags::MAX_TAGS {
        return Err(AwsError::new("TagsLimitExceededException", 400, "A trail holds at most 50 tags."));
    }
    list.iter()
        .map(|tag| {
            let key = tag["Key"].as_str().unwrap_or_default();
            let value = tag["Value"].as_str();
            if !(1..=128).contains(&key.chars().count()) || key.to_ascii_lowercase().starts_with("aws:") {
                return Err(invalid(format!("Tag key {key:?} is not valid: 1 to 128 characters, not starting with aws:.")));
            }
            if value.is_some_and(|v| v.chars().count() > 256) || (value_needed && value.is_none()) {
                return Err(invalid(format!("The value of tag {key:?} must be given, at most 256 characters.")));
            }
            Ok((key.to_owned(), value.unwrap_or_default().to_owned()))
        })
        .collect()
}

/// The trail a tag operation names by ARN (`ResourceId`); AWS answers ResourceNotFound for
/// a trail that is not there.
async fn tagged_trail(store: &dyn Store, ctx: &Context, resource: &str) -> Result<String, AwsError> {
    let name = trail_name(&json!({ "ResourceId": resource }), "ResourceId")?;
    match store.get_trail(&name).await? {
        Some(_) => Ok(name),
        None => Err(AwsError::new(
            "ResourceNotFoundException",
            400,
            format!("Resource {} not found for customer: {}", ctx.trail_arn(&name), ctx.account_id),
        )),
    }
}

pub async fn add_tags(store: &dyn Store, ctx: &Context, input: &Value) -> Result<Value, AwsError> {
    let resource = opt_str(input, "ResourceId")?.ok_or_else(|| AwsError::invalid_parameter("ResourceId is required."))?;
    let name = tagged_trail(store, ctx, resource).await?;
    let tags = tags_list(input, true)?;
    if !store.tags().add_tags(&name, &tags).await? {
        return Err(AwsError::new("TagsLimitExceededException", 400, "A trail holds at most 50 tags."));
    }
    Ok(json!({}))
}

pub async fn remove_tags(store: &dyn Store, ctx: &Context, input: &Value) -> Result<Value, AwsError> {
    let resource = opt_str(input, "ResourceId")?.ok_or_else(|| AwsError::invalid_parameter("ResourceId is required."))?;
    let name = tagged_trail(store, ctx, resource).await?;
    let keys: Vec<String> = tags_list(input, false)?.into_iter().map(|(k, _)| k).collect();
    store.tags().remove_tags(&name, &keys).await?;
    Ok(json!({}))
}

/// ListTags: every named trail's tags in one page (at most 20 trails a call, as AWS).
pub async fn list_tags(store: &dyn Store, ctx: &Context, input: &Value) -> Result<Value, AwsError> {
    if opt_str(input, "NextToken")?.is_some() {
        return Err(AwsError::new("InvalidTokenException", 400, "The NextToken was not issued by this server."));
    }
    let Some(Value::Array(resources)) = input.get("ResourceIdList") else {
        return Err(AwsError::invalid_parameter("ResourceIdList is required: a list of trail ARNs."));
    };
    if resources.len() > 20 {
        return Err(AwsError::invalid_parameter("ResourceIdList takes at most 20 trails."));
    }
    let mut answer = Vec::new();
    for resource in resources {
        let resource = resource.as_str().ok_or_else(|| AwsError::serialization("ResourceIdList holds strings."))?;
        let name = tagged_trail(store, ctx, resource).await?;
        let tags: Vec<Value> = store.tags().tags(&name).await?.into_iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect();
        answer.push(json!({ "ResourceId": ctx.trail_arn(&name), "TagsList": tags }));
    }
    Ok(json!({ "ResourceTagList": answer }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trail_names_follow_aws_rules() {
        for good in ["prod", "my-trail.v2", "A_1-b"] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in ["ab", "-lead", "trail-", "my--trail", "my-_trail", "has space", "192.168.5.4"] {
            assert_eq!(validate_name(bad).unwrap_err().kind, "InvalidTrailNameException", "{bad}");
        }
    }

    #[test]
    fn arns_name_their_trail() {
        let input = json!({ "Name": "arn:aws:cloudtrail:us-east-1:123456789012:trail/prod" });
        assert_eq!(trail_name(&input, "Name").unwrap(), "prod");
        assert_eq!(trail_name(&json!({}), "Name").unwrap_err().kind, "TrailNotProvidedException");
    }
}
