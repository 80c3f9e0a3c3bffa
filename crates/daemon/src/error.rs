//! The one place engine errors become HTTP statuses, with docker's body
//! `{"message": ...}`.

use crate::body::Body;
use hull_engine::{EngineError, ErrorKind};
use hyper::StatusCode;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError { status, message: message.into() }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub fn into_response(self) -> hyper::Response<Body> {
        let body = serde_json::json!({ "message": self.message }).to_string() + "\n";
        hyper::Response::builder()
            .status(self.status)
            .header("Content-Type", "application/json")
            .body(Body::full(body))
            .unwrap_or_else(|_| hyper::Response::new(Body::empty()))
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        let status = match e.kind() {
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Invalid => StatusCode::BAD_REQUEST,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
            // docker answers a command that cannot run with 400; its CLI
            // makes 126/127 of the words ("executable file not found",
            // "permission denied").
            ErrorKind::CommandNotFound | ErrorKind::CommandNotExecutable => StatusCode::BAD_REQUEST,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.to_string())
    }
}

impl From<hull_image::images::ImageError> for ApiError {
    fn from(e: hull_image::images::ImageError) -> ApiError {
        ApiError::from(EngineError::from(e))
    }
}
