//! Whose access key signed a request: the key pair given to `serve` in the environment
//! (`TRAILSIGHT_AWS_*`, an admin), or an AWS key pair made with `trailsight tokens create NAME
//! --role viewer|admin --aws`, acting with its token's role. Read operations need a viewer,
//! every change an admin (AWS's `AccessDeniedException` otherwise), and changes are written to
//! the audit log under the token's name.

use engine::access::{Principal, Role, Via};
use engine::store::access::AuditEntry;

use super::{AwsApi, AwsError, Credentials};

/// The operations that change something (everything else only reads).
pub const CHANGES: [&str; 9] = [
    "CreateTrail",
    "UpdateTrail",
    "DeleteTrail",
    "StartLogging",
    "StopLogging",
    "PutInsightSelectors",
    "PutEventSelectors",
    "AddTags",
    "RemoveTags",
];

/// The access key ID named in the Authorization header, if it has one.
pub fn access_key_id(authorization: &str) -> Option<&str> {
    let credential = authorization.split(['\u{20}', ',']).find_map(|part| part.trim().strip_prefix("Credential="))?;
    credential.split_once('/').map(|(key, _)| key)
}

/// The signing key and who it belongs to.
pub async fn signer(api: &AwsApi, key_id: Option<&str>) -> Result<(Credentials, Principal), AwsError> {
    let unknown = || AwsError::new("UnrecognizedClientException", 400, "The security token included in the request is invalid.");
    let Some(key_id) = key_id else { return Err(AwsError::missing_authentication()) };
    if let Some(c) = api.credentials.iter().find(|c| c.access_key_id == key_id) {
        let principal = Principal { name: "TRAILSIGHT_AWS_ACCESS_KEY_ID".to_owned(), role: Role::Admin, via: Via::AwsKey };
        return Ok((c.clone(), principal));
    }
    let found = api.store.access().token_by_aws_key(key_id).await.map_err(|e| {
        tracing::error!("looking up an AWS access key: {e}");
        AwsError::internal()
    })?;
    match found {
        Some((token, secret)) if token.role.can_read() => Ok((
            Credentials { access_key_id: key_id.to_owned(), secret_access_key: secret },
            Principal { name: token.name, role: token.role, via: Via::AwsKey },
        )),
        Some(_) => Err(AwsError::new("AccessDeniedException", 400, "This access key may only push events.")),
        None if api.credentials.is_empty() => Err(AwsError::new(
            "UnrecognizedClientException",
            400,
            "The security token included in the request is invalid. (This trailsight server knows no such key: create one with `trailsight tokens create NAME --role viewer --aws`.)",
        )),
        None => Err(unknown()),
    }
}

/// Refuses a change to a key that may only read.
pub fn authorize(operation: &str, who: &Principal) -> Result<(), AwsError> {
    if CHANGES.contains(&operation) && !who.role.can_change() {
        return Err(AwsError::new(
            "AccessDeniedException",
            400,
            format!("User: {} is not authorized to perform: cloudtrail:{operation} (its role is {}; changes need admin).", who.name, who.role),
        ));
    }
    Ok(())
}

/// Writes a successful change to the audit log.
pub async fn audit(api: &AwsApi, who: &Principal, operation: &str, input: &serde_json::Value, now_ms: i64) {
    if !CHANGES.contains(&operation) {
        return;
    }
    let target = ["Name", "TrailName", "ResourceId"].iter().find_map(|m| input.get(*m)).and_then(|v| v.as_str()).unwrap_or_default();
    let entry = AuditEntry {
        id: 0,
        at_ms: now_ms,
        actor: who.name.clone(),
        action: format!("aws.{operation}"),
        target: target.to_owned(),
        detail: match operation {
            "PutInsightSelectors" => input.get("InsightSelectors").map(|v| v.to_string()).unwrap_or_default(),
            "PutEventSelectors" => ["EventSelectors", "AdvancedEventSelectors"]
                .iter()
                .find_map(|m| input.get(*m))
                .map(|v| v.to_string())
                .unwrap_or_default(),
            "AddTags" | "RemoveTags" | "CreateTrail" => input.get("TagsList").map(|v| v.to_string()).unwrap_or_default(),
            _ => String::new(),
        },
    };
    // Selectors can hold a megabyte of values: the log keeps the start of them.
    let mut entry = entry;
    if entry.detail.len() > 2000 {
        entry.detail = format!("{}…", entry.detail.chars().take(2000).collect::<String>());
    }
    if let Err(e) = api.store.access().record_audit(&entry).await {
        tracing::error!(operation, "writing the audit log failed: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_id_is_read_from_the_credential() {
        let header = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/cloudtrail/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
        assert_eq!(access_key_id(header), Some("AKIDEXAMPLE"));
        assert_eq!(access_key_id("Bearer x"), None);
    }
}
