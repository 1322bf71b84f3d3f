//! Wire enums: every value the API documents, plus `Unknown(String)` so a new
//! server value never fails decoding (docs/design.md#naming).

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// Declares a wire enum with canonical spellings, case-insensitive parsing
/// and an `Unknown(String)` fallback.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this crate does not know, kept exactly as received,
            /// surrounding whitespace too.
            Unknown(String),
        }

        impl $name {
            /// Every documented value, in the order the API reference lists them.
            pub const KNOWN: &'static [$name] = &[ $( $name::$variant, )+ ];

            /// Parses a wire value. Matching ignores ASCII case and surrounding
            /// whitespace, since servers and the API reference's examples do
            /// not always use the canonical spelling; anything else is kept,
            /// exactly as received, as [`Self::Unknown`].
            pub fn parse(received: &str) -> Self {
                let value = received.trim();
                // Exact spelling first: the common case costs one comparison.
                match value {
                    $( $wire => return $name::$variant, )+
                    _ => {}
                }
                $(
                    if value.eq_ignore_ascii_case($wire) {
                        return $name::$variant;
                    }
                )+
                $name::Unknown(received.to_owned())
            }

            /// The canonical wire spelling (`Unknown` values as received).
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )+
                    $name::Unknown(value) => value,
                }
            }

            /// Whether this is a value the API documents (not [`Self::Unknown`]).
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Unknown(_))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = std::convert::Infallible;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Ok(Self::parse(value))
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::parse(value)
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::parse(&value)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}

wire_enum! {
    /// Status of one command execution on one instance (`InvocationStatus`,
    /// docs/api/describe-invocation-results.md#invocationstatus).
    InvocationStatus {
        /// The system is verifying or sending the command.
        Pending => "Pending",
        /// A scheduled (period / rate) execution is waiting for its next run.
        Scheduled => "Scheduled",
        /// The command is running on the instance.
        Running => "Running",
        /// The command finished with exit code 0.
        Success => "Success",
        /// The command finished with a non-zero exit code, or failed to run.
        Failed => "Failed",
        /// The execution could not proceed (see `ErrorCode`).
        Error => "Error",
        /// The execution timed out.
        Timeout => "Timeout",
        /// The execution was cancelled before it started.
        Cancelled => "Cancelled",
        /// The execution is being stopped.
        Stopping => "Stopping",
        /// The execution was stopped while running.
        Terminated => "Terminated",
        /// The command does not apply to the instance (wrong OS, missing user...).
        Invalid => "Invalid",
        /// The command could not be delivered (instance not running, agent gone).
        Aborted => "Aborted",
    }
}

impl InvocationStatus {
    /// Whether the status can no longer change: success, failure or stopped.
    /// `Unknown` values are not final, so a waiter keeps polling rather than
    /// misreading a new intermediate state as an end state.
    pub fn is_final(&self) -> bool {
        self.is_success() || self.is_failure() || self.is_stopped()
    }

    /// Whether the command ran and succeeded.
    pub fn is_success(&self) -> bool {
        matches!(self, Self::Success)
    }

    /// Whether the execution ended in a failure: `Failed`, `Error`,
    /// `Timeout`, `Invalid` or `Aborted`.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            Self::Failed | Self::Error | Self::Timeout | Self::Invalid | Self::Aborted
        )
    }

    /// Whether a user stopped the execution: `Cancelled` or `Terminated`.
    pub fn is_stopped(&self) -> bool {
        matches!(self, Self::Cancelled | Self::Terminated)
    }
}

wire_enum! {
    /// Overall status of a command process (`InvokeRecordStatus`,
    /// docs/api/describe-invocation-results.md#invokerecordstatus).
    /// Also a request filter.
    InvokeRecordStatus {
        /// The command process is running.
        Running => "Running",
        /// The command process is complete (older API: success or not).
        Finished => "Finished",
        /// The command process succeeded on every instance.
        Success => "Success",
        /// The command process failed.
        Failed => "Failed",
        /// The command process failed on some instances.
        PartialFailed => "PartialFailed",
        /// The command process was stopped.
        Stopped => "Stopped",
        /// The command process is being stopped.
        Stopping => "Stopping",
    }
}

impl InvokeRecordStatus {
    /// Whether the status can no longer change. `Unknown` values are not
    /// final (see [`InvocationStatus::is_final`]).
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Self::Finished | Self::Success | Self::Failed | Self::PartialFailed | Self::Stopped
        )
    }

    /// Whether the process failed on at least one instance.
    pub fn is_failure(&self) -> bool {
        matches!(self, Self::Failed | Self::PartialFailed)
    }
}

wire_enum! {
    /// Why an execution did not run or did not succeed (`ErrorCode`).
    /// An empty `ErrorCode` on the wire means "no error" and decodes as `None`.
    ErrorCode {
        /// The instance does not exist.
        InstanceNotExists => "InstanceNotExists",
        /// The instance was released while the command ran.
        InstanceReleased => "InstanceReleased",
        /// The instance was not running.
        InstanceNotRunning => "InstanceNotRunning",
        /// The command does not apply to the instance.
        CommandNotApplicable => "CommandNotApplicable",
        /// The requested user does not exist on the instance.
        AccountNotExists => "AccountNotExists",
        /// The working directory does not exist.
        DirectoryNotExists => "DirectoryNotExists",
        /// The schedule expression is invalid.
        BadCronExpression => "BadCronExpression",
        /// The Cloud Assistant agent is not running.
        ClientNotRunning => "ClientNotRunning",
        /// The Cloud Assistant agent does not respond.
        ClientNotResponse => "ClientNotResponse",
        /// The Cloud Assistant agent is being upgraded.
        ClientIsUpgrading => "ClientIsUpgrading",
        /// The Cloud Assistant agent must be upgraded.
        ClientNeedUpgrade => "ClientNeedUpgrade",
        /// The command could not be delivered in time.
        DeliveryTimeout => "DeliveryTimeout",
        /// The command ran longer than its timeout.
        ExecutionTimeout => "ExecutionTimeout",
        /// The command raised an exception while running.
        ExecutionException => "ExecutionException",
        /// The command was interrupted.
        ExecutionInterrupted => "ExecutionInterrupted",
        /// The command exited with a non-zero code.
        ExitCodeNonzero => "ExitCodeNonzero",
        /// The instance's security group rules deny access to the Cloud
        /// Assistant service.
        SecurityGroupRuleDenied => "SecurityGroupRuleDenied",
        /// Too many tasks ran at once on the instance; the task was not run.
        TaskConcurrencyLimit => "TaskConcurrencyLimit",
    }
}

wire_enum! {
    /// Encoding of `Output` (`ContentEncoding`,
    /// docs/api/describe-invocation-results.md#output). The API default is
    /// Base64.
    ContentEncoding {
        /// Output is sent as text, exactly as the command printed it.
        PlainText => "PlainText",
        /// Output is sent Base64-encoded (the default).
        Base64 => "Base64",
    }
}

// The enum is declared by `wire_enum!`, which cannot mark a default variant.
#[allow(clippy::derivable_impls)]
impl Default for ContentEncoding {
    fn default() -> Self {
        Self::Base64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_ignores_case_and_whitespace_and_keeps_canonical_spelling() {
        assert_eq!(
            InvokeRecordStatus::parse(" finished "),
            InvokeRecordStatus::Finished
        );
        assert_eq!(InvokeRecordStatus::parse("FINISHED").as_str(), "Finished");
        assert_eq!(
            InvocationStatus::parse("partialfailed").as_str(),
            "partialfailed"
        );
        assert_eq!(
            InvokeRecordStatus::parse("partialfailed"),
            InvokeRecordStatus::PartialFailed
        );
        assert_eq!(
            ContentEncoding::parse("plaintext"),
            ContentEncoding::PlainText
        );
        assert_eq!(
            ErrorCode::parse("exitcodenonzero"),
            ErrorCode::ExitCodeNonzero
        );
    }

    #[test]
    fn unknown_values_are_kept_not_rejected() {
        let status = InvocationStatus::parse("Hibernating");
        assert_eq!(status, InvocationStatus::Unknown("Hibernating".into()));
        assert_eq!(status.as_str(), "Hibernating");
        assert!(!status.is_known());
        assert!(!status.is_final());
        assert!(!status.is_failure());
        // Kept exactly as received, whitespace too (as the official SDKs).
        assert_eq!(ErrorCode::parse(" New.Code ").as_str(), " New.Code ");
        assert_eq!(
            ErrorCode::parse(" exitcodenonzero "),
            ErrorCode::ExitCodeNonzero
        );
    }

    #[test]
    fn invocation_status_has_twelve_documented_values_and_round_trips() {
        assert_eq!(InvocationStatus::KNOWN.len(), 12);
        for status in InvocationStatus::KNOWN {
            assert_eq!(&InvocationStatus::parse(status.as_str()), status);
            assert!(status.is_known());
        }
        assert_eq!(InvokeRecordStatus::KNOWN.len(), 7);
        assert_eq!(ErrorCode::KNOWN.len(), 18);
        for code in ErrorCode::KNOWN {
            assert_eq!(&ErrorCode::parse(code.as_str()), code);
        }
        // Listed in the API's documentation of `ErrorCode`.
        for documented in ["SecurityGroupRuleDenied", "TaskConcurrencyLimit"] {
            assert!(ErrorCode::parse(documented).is_known(), "{documented}");
        }
    }

    #[test]
    fn final_and_failure_predicates() {
        use InvocationStatus as S;
        let finals: Vec<_> = S::KNOWN.iter().filter(|s| s.is_final()).collect();
        assert_eq!(
            finals,
            [
                &S::Success,
                &S::Failed,
                &S::Error,
                &S::Timeout,
                &S::Cancelled,
                &S::Terminated,
                &S::Invalid,
                &S::Aborted
            ]
        );
        assert!(!S::Running.is_final());
        assert!(!S::Stopping.is_final());
        assert!(S::Timeout.is_failure());
        assert!(!S::Success.is_failure());
        assert!(!S::Cancelled.is_failure());
        assert!(InvokeRecordStatus::PartialFailed.is_failure());
        assert!(InvokeRecordStatus::Finished.is_final());
        assert!(!InvokeRecordStatus::Stopping.is_final());
        assert!(!InvokeRecordStatus::Running.is_failure());
    }

    #[test]
    fn content_encoding_defaults_to_base64() {
        assert_eq!(ContentEncoding::default(), ContentEncoding::Base64);
    }

    #[test]
    fn serializes_as_canonical_string() {
        let json = serde_json::to_string(&InvocationStatus::parse("success")).unwrap();
        assert_eq!(json, "\"Success\"");
    }
}
