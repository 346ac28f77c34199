//! Errors in the AWS JSON 1.1 protocol: `{"__type": "...", "Message": "..."}` with the HTTP
//! status the CloudTrail model gives each error.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone, PartialEq)]
pub struct AwsError {
    /// The error's shape name, e.g. `TrailNotFoundException`.
    pub kind: &'static str,
    pub status: u16,
    pub message: String,
}

impl AwsError {
    pub fn new(kind: &'static str, status: u16, message: impl Into<String>) -> AwsError {
        AwsError { kind, status, message: message.into() }
    }

    pub fn missing_authentication() -> AwsError {
        AwsError::new("MissingAuthenticationTokenException", 400, "Missing Authentication Token")
    }

    pub fn invalid_signature(message: &str) -> AwsError {
        AwsError::new("InvalidSignatureException", 400, message)
    }

    pub fn trail_not_found(name: &str, account: &str, region: &str) -> AwsError {
        AwsError::new(
            "TrailNotFoundException",
            404,
            format!("Unknown trail: {name} for the user: {account}. Trail region: {region}"),
        )
    }

    pub fn invalid_parameter(message: impl Into<String>) -> AwsError {
        AwsError::new("InvalidParameterException", 400, message)
    }

    pub fn serialization(message: impl Into<String>) -> AwsError {
        AwsError::new("SerializationException", 400, message)
    }

    pub fn internal() -> AwsError {
        AwsError::new("InternalFailure", 500, "The request processing has failed because of an unknown error. See the trailsight server log.")
    }
}

impl From<engine::StoreError> for AwsError {
    fn from(e: engine::StoreError) -> AwsError {
        tracing::error!("AWS API storage error: {e}");
        AwsError::internal()
    }
}

impl IntoResponse for AwsError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "__type": self.kind, "Message": self.message });
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        (
            status,
            [(header::CONTENT_TYPE, "application/x-amz-json-1.1"), (header::HeaderName::from_static("x-amzn-errortype"), self.kind)],
            body.to_string(),
        )
            .into_response()
    }
}
