//! The runtime state machine of one execution environment, after the AWS Runtime Interface
//! Emulator (`core/states.go`).
//!
//! ```text
//! Started --/next--> Ready --invoke delivered--> Running --/response--> InvocationResponse --> ResponseSent
//!    |                 ^                            \--/error-----> InvocationErrorResponse --> ResponseSent
//!    |                 \------------------------------------------/next------------------------------/
//!    \--/init/error--> InitError (terminal)
//! ```
//!
//! `InvocationResponse` and `InvocationErrorResponse` only exist inside one request handler
//! (validate, then deliver, then `ResponseSent`), so they never show as a resting state; they are
//! still named here because AWS names them in `InvalidStateTransition` messages.
//! Every transition not drawn above is refused with `403 InvalidStateTransition`.

use std::fmt;

/// Where the runtime process stands with respect to the Runtime API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeState {
    /// Process spawned; it has called neither `/next` nor `/init/error` yet.
    Started,
    /// The runtime reported an init failure; nothing else is accepted.
    InitError,
    /// The runtime is parked in `/next`, waiting for an invocation.
    Ready,
    /// An invocation was handed out by `/next` and is being processed.
    Running,
    /// The runtime answered the invocation; it may now call `/next` again.
    ResponseSent,
}

impl RuntimeState {
    /// The name AWS uses for this state in error messages.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Started => "Started",
            Self::InitError => "InitError",
            Self::Ready => "Ready",
            Self::Running => "Running",
            // AWS spells this one differently from the others.
            Self::ResponseSent => "RuntimeResponseSentState",
        }
    }
}

impl fmt::Display for RuntimeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A transition the runtime asks for with one Runtime API call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// `GET /runtime/invocation/next`.
    Ready,
    /// `POST /runtime/init/error`.
    InitError,
    /// `POST /runtime/invocation/{id}/response`.
    InvocationResponse,
    /// `POST /runtime/invocation/{id}/error`.
    InvocationErrorResponse,
}

impl Transition {
    /// The name of the target state as AWS prints it.
    #[must_use]
    pub fn target_name(self) -> &'static str {
        match self {
            Self::Ready => "Ready",
            Self::InitError => "InitError",
            Self::InvocationResponse => "InvocationResponse",
            Self::InvocationErrorResponse => "InvocationErrorResponse",
        }
    }
}

/// A refused transition; renders as the RIE's `InvalidStateTransition` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("State transition from {} to {} failed for runtime. Error: State transition is not allowed", .from.name(), .to.target_name())]
pub struct InvalidTransition {
    /// The state the runtime was in.
    pub from: RuntimeState,
    /// The transition it asked for.
    pub to: Transition,
}

/// Checks a transition and returns the state the runtime rests in afterwards.
///
/// Request validation (request id, body size) must happen *before* this is applied: transitions
/// are irreversible.
///
/// # Errors
/// [`InvalidTransition`] when the transition is not drawn in the module diagram.
pub fn apply(from: RuntimeState, to: Transition) -> Result<RuntimeState, InvalidTransition> {
    use RuntimeState as S;
    use Transition as T;
    match (from, to) {
        // A second concurrent /next while parked is allowed, as in the RIE.
        (S::Started | S::Ready | S::ResponseSent, T::Ready) => Ok(S::Ready),
        (S::Started, T::InitError) => Ok(S::InitError),
        (S::Running, T::InvocationResponse | T::InvocationErrorResponse) => Ok(S::ResponseSent),
        _ => Err(InvalidTransition { from, to }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn happy_path_cycles_through_ready_running_response_sent() {
        let s = apply(RuntimeState::Started, Transition::Ready).unwrap();
        assert_eq!(s, RuntimeState::Ready);
        // Delivery of an invocation is not a runtime call; the server sets Running itself.
        let s = apply(RuntimeState::Running, Transition::InvocationResponse).unwrap();
        assert_eq!(s, RuntimeState::ResponseSent);
        assert_eq!(apply(s, Transition::Ready).unwrap(), RuntimeState::Ready);
        assert_eq!(
            apply(RuntimeState::Running, Transition::InvocationErrorResponse).unwrap(),
            RuntimeState::ResponseSent
        );
    }

    #[test]
    fn init_error_only_from_started_and_is_terminal() {
        assert_eq!(
            apply(RuntimeState::Started, Transition::InitError).unwrap(),
            RuntimeState::InitError
        );
        for t in [
            Transition::Ready,
            Transition::InitError,
            Transition::InvocationResponse,
            Transition::InvocationErrorResponse,
        ] {
            assert!(apply(RuntimeState::InitError, t).is_err());
        }
        assert!(apply(RuntimeState::Ready, Transition::InitError).is_err());
        assert!(apply(RuntimeState::ResponseSent, Transition::InitError).is_err());
    }

    #[test]
    fn refusals_render_the_rie_message() {
        let e = apply(RuntimeState::Ready, Transition::InvocationResponse).unwrap_err();
        assert_eq!(
            e.to_string(),
            "State transition from Ready to InvocationResponse failed for runtime. Error: State transition is not allowed"
        );
        let e = apply(
            RuntimeState::ResponseSent,
            Transition::InvocationErrorResponse,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "State transition from RuntimeResponseSentState to InvocationErrorResponse failed for runtime. Error: State transition is not allowed"
        );
        let e = apply(RuntimeState::Running, Transition::Ready).unwrap_err();
        assert_eq!(
            e.to_string(),
            "State transition from Running to Ready failed for runtime. Error: State transition is not allowed"
        );
    }
}
