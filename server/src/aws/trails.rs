//! Trail operations and insight selectors. A trail here is the same stored trail that
//! `trailsight ingest --trail` fills and the dashboard's settings edit.

use engine::store::{InsightType, Store, Trail};
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

fn trail_json(t: &Trail, ctx: &Context) -> Value {
    json!({
        "Name": t.name,
        "S3BucketName": t.s3_bucket.clone().unwrap_or_default(),
        "IncludeGlobalServiceEvents": true,
        "IsMultiRegionTrail": true,
        "HomeRegion": ctx.region,
        "TrailARN": ctx.trail_arn(&t.name),
        "LogFileValidationEnabled": false,
        "HasCustomEventSelectors": false,
        "HasInsightSelectors": !t.insight_types.is_empty(),
        "IsOrganizationTrail": false,
    })
}

pub async fn create_trail(store: &dyn Store, ctx: &Context, input: &Value) -> Result<Value, AwsError> {
    let name = opt_str(input, "Name")?.ok_or_else(|| AwsError::invalid_parameter("Name is required."))?;
    validate_name(name)?;
    let bucket = opt_str(input, "S3BucketName")?
        .ok_or_else(|| AwsError::new("InvalidS3BucketNameException", 400, "S3BucketName is required."))?;
    // Checked before anything is stored: a bad tag creates no trail.
    let tags = tags_list(input, true)?;
    let trail = store.create_trail(name, Some(bucket)).await.map_err(|e| match e {
        engine::StoreError::TrailExists(_) => AwsError::new(
            "TrailAlreadyExistsException",
            400,
            format!("Trail {} already exists for customer: {}", name, ctx.account_id),
        ),
        other => other.into(),
    })?;
    // As in AWS, a new trail has no insight selectors until PutInsightSelectors.
    store.set_insight_types(name, &[]).await?;
    store.tags().add_tags(name, &tags).await?;
    Ok(json!({
        "Name": trail.name,
        "S3BucketName": bucket,
        "IncludeGlobalServiceEvents": true,
        "IsMultiRegionTrail": true,
        "TrailARN": ctx.trail_arn(name),
        "LogFileValidationEnabled": false,
        "IsOrganizationTrail": false,
    }))
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
    let mut status = json!({ "IsLogging": trail.logging, "StartLoggingTime": epoch_seconds(trail.created_ms) });
    if let Some(last) = trail.last_event_ms {
        status["LatestDeliveryTime"] = epoch_seconds(last);
    }
    Ok(status)
}

pub async fn set_logging(store: &dyn Store, ctx: &Context, input: &Value, logging: bool) -> Result<Value, AwsError> {
    let name = trail_name(input, "Name")?;
    existing(store, ctx, &name).await?;
    store.set_logging(&name, logging).await?;
    Ok(json!({}))
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
