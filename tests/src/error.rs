//! The harness's one error type: a message that says what failed and, where it helps, what to do.

use std::fmt;

/// A harness failure (emulator start-up, proxy, fixture creation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HarnessError {
    /// What went wrong, with the details needed to act on it.
    pub message: String,
}

impl HarnessError {
    /// An error with the given message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// "while trying to `action`: `cause`", keeping the cause's whole source chain.
    pub fn during(action: &str, cause: &(dyn std::error::Error + 'static)) -> Self {
        Self::new(format!(
            "{action}: {}",
            countersign_aws::error::error_chain(cause)
        ))
    }
}

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HarnessError {}

/// The harness's result type.
pub type Result<T> = std::result::Result<T, HarnessError>;
