//! igctl's errors and exit codes (DESIGN §7): 0 ok · 1 error · 2 usage · 3 tampered ·
//! 4 refused · 5 unreachable · 6 unverifiable. The mapping lives in
//! [`ErrorCode::exit_code`](intentgate_proto::api::ErrorCode::exit_code).

use intentgate_proto::api::{ErrorBody, ErrorCode};

/// An error igctl reports and exits with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    pub code: ErrorCode,
    pub message: String,
}

impl CliError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        CliError {
            code,
            message: message.into(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Usage, message)
    }

    pub fn exit_code(&self) -> i32 {
        self.code.exit_code()
    }

    /// The JSON envelope printed with `--output json`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&ErrorBody::new(self.code, self.message.clone()))
            .unwrap_or_else(|_| "{}".into())
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}
