//! Which registration errors are worth retrying. An orchestrator that is
//! down, restarting or busy answers differently later, so the agent waits
//! and tries again; one that refuses what this node sends (its description,
//! its proof of identity, its size) answers the same forever, so the agent
//! stops and says what to fix instead of retrying in silence.

use storalloc_auth::tls::MAX_AGENT_MESSAGE_BYTES;
use tonic::{Code, Status};

/// What tonic says when a message is past a size limit, on either side
/// ("encoded …" on the sender, "decoded …" on the receiver).
const TOO_LARGE: &str = "message length too large";

/// A registration the orchestrator will never accept as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: Code,
    /// The status message, with its causes.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = if self.message.contains(TOO_LARGE) {
            "this node's registration is too large"
        } else {
            "the orchestrator refused this node's registration"
        };
        write!(
            f,
            "{what} ({:?}): {}; {}",
            self.code, self.message, self.hint
        )
    }
}

/// `Some` when the failed registration `s` cannot succeed by retrying:
/// a bad node description, a refused identity, an unknown service or a
/// message past [`MAX_AGENT_MESSAGE_BYTES`]. `None` (retry with backoff)
/// for everything else: unreachable, timed out, aborted, overloaded.
pub fn permanent(s: &Status) -> Option<Refusal> {
    let message = storalloc_auth::tls::status_with_causes(s);
    let hint = if message.contains(TOO_LARGE) {
        format!(
            "storalloc accepts registrations of up to {} MiB; describe fewer disks per \
             host in the system file (split the host) and restart `storalloc server`",
            MAX_AGENT_MESSAGE_BYTES >> 20
        )
    } else {
        match s.code() {
            Code::InvalidArgument | Code::OutOfRange | Code::FailedPrecondition => {
                "fix the system file and restart `storalloc server`".to_string()
            }
            Code::Unauthenticated | Code::PermissionDenied => {
                "give this server the orchestrator's agent secret (agent_secret_file in the \
                 config passed with -c), check that both hosts' clocks agree, and restart \
                 `storalloc server`"
                    .to_string()
            }
            Code::Unimplemented => format!(
                "the address is not an orchestrator's server port, or that orchestrator \
                 does not know agent {}; point the server at the right port or upgrade, \
                 and restart `storalloc server`",
                env!("CARGO_PKG_VERSION")
            ),
            _ => return None,
        }
    };
    Some(Refusal {
        code: s.code(),
        message,
        hint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_errors_are_retried() {
        for code in [
            Code::Unavailable,
            Code::DeadlineExceeded,
            Code::Aborted,
            Code::ResourceExhausted,
            Code::Cancelled,
            Code::Unknown,
            Code::Internal,
        ] {
            assert_eq!(permanent(&Status::new(code, "x")), None, "{code:?}");
        }
    }

    #[test]
    fn refusals_stop_with_what_to_do() {
        let r = permanent(&Status::invalid_argument("node.disks[3].medium: bad")).unwrap();
        assert_eq!(
            r.to_string(),
            "the orchestrator refused this node's registration (InvalidArgument): \
             node.disks[3].medium: bad; fix the system file and restart `storalloc server`"
        );
        for code in [
            Code::FailedPrecondition,
            Code::OutOfRange,
            Code::PermissionDenied,
            Code::Unauthenticated,
            Code::Unimplemented,
        ] {
            assert!(permanent(&Status::new(code, "x")).is_some(), "{code:?}");
        }
        let r = permanent(&Status::unauthenticated("agent register: bad MAC")).unwrap();
        assert!(r.hint.contains("agent_secret_file"), "{r}");
    }

    #[test]
    fn a_message_past_the_limit_is_permanent_whatever_its_code() {
        let s = Status::resource_exhausted(
            "Error, decoded message length too large: found 70000000 bytes, the limit is: 67108864 bytes",
        );
        let r = permanent(&s).unwrap();
        assert!(
            r.to_string()
                .starts_with("this node's registration is too large (ResourceExhausted)"),
            "{r}"
        );
        assert!(r.hint.contains("64 MiB"), "{r}");
    }
}
