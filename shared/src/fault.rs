//! Faults clients see, with supervisor's XML-RPC fault codes (`supervisor/xmlrpc.py`).

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Fault {
    #[error("UNKNOWN_METHOD")]
    UnknownMethod,
    #[error("INCORRECT_PARAMETERS")]
    IncorrectParameters,
    #[error("BAD_ARGUMENTS: {0}")]
    BadArguments(String),
    #[error("SIGNATURE_UNSUPPORTED")]
    SignatureUnsupported,
    #[error("SHUTDOWN_STATE")]
    ShutdownState,
    #[error("BAD_NAME: {0}")]
    BadName(String),
    #[error("BAD_SIGNAL: {0}")]
    BadSignal(String),
    #[error("NO_FILE: {0}")]
    NoFile(String),
    #[error("NOT_EXECUTABLE: {0}")]
    NotExecutable(String),
    #[error("FAILED: {0}")]
    Failed(String),
    #[error("ABNORMAL_TERMINATION: {0}")]
    AbnormalTermination(String),
    #[error("SPAWN_ERROR: {0}")]
    SpawnError(String),
    #[error("ALREADY_STARTED: {0}")]
    AlreadyStarted(String),
    #[error("NOT_RUNNING: {0}")]
    NotRunning(String),
    #[error("SUCCESS")]
    Success,
    #[error("ALREADY_ADDED: {0}")]
    AlreadyAdded(String),
    #[error("STILL_RUNNING: {0}")]
    StillRunning(String),
    #[error("CANT_REREAD: {0}")]
    CantReread(String),
}

impl Fault {
    /// The single mapping from fault to supervisor's numeric code.
    pub fn code(&self) -> i32 {
        match self {
            Fault::UnknownMethod => 1,
            Fault::IncorrectParameters => 2,
            Fault::BadArguments(_) => 3,
            Fault::SignatureUnsupported => 4,
            Fault::ShutdownState => 6,
            Fault::BadName(_) => 10,
            Fault::BadSignal(_) => 11,
            Fault::NoFile(_) => 20,
            Fault::NotExecutable(_) => 21,
            Fault::Failed(_) => 30,
            Fault::AbnormalTermination(_) => 40,
            Fault::SpawnError(_) => 50,
            Fault::AlreadyStarted(_) => 60,
            Fault::NotRunning(_) => 70,
            Fault::Success => 80,
            Fault::AlreadyAdded(_) => 90,
            Fault::StillRunning(_) => 91,
            Fault::CantReread(_) => 92,
        }
    }
}
