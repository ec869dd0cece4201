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
    /// supervisor's name for the fault (`BAD_NAME`).
    pub fn name(&self) -> &'static str {
        match self {
            Fault::UnknownMethod => "UNKNOWN_METHOD",
            Fault::IncorrectParameters => "INCORRECT_PARAMETERS",
            Fault::BadArguments(_) => "BAD_ARGUMENTS",
            Fault::SignatureUnsupported => "SIGNATURE_UNSUPPORTED",
            Fault::ShutdownState => "SHUTDOWN_STATE",
            Fault::BadName(_) => "BAD_NAME",
            Fault::BadSignal(_) => "BAD_SIGNAL",
            Fault::NoFile(_) => "NO_FILE",
            Fault::NotExecutable(_) => "NOT_EXECUTABLE",
            Fault::Failed(_) => "FAILED",
            Fault::AbnormalTermination(_) => "ABNORMAL_TERMINATION",
            Fault::SpawnError(_) => "SPAWN_ERROR",
            Fault::AlreadyStarted(_) => "ALREADY_STARTED",
            Fault::NotRunning(_) => "NOT_RUNNING",
            Fault::Success => "SUCCESS",
            Fault::AlreadyAdded(_) => "ALREADY_ADDED",
            Fault::StillRunning(_) => "STILL_RUNNING",
            Fault::CantReread(_) => "CANT_REREAD",
        }
    }

    /// The same fault naming the process as the client named it (supervisor's faults carry the
    /// name exactly as it was passed: `ALREADY_STARTED: web`, not `web:web`).
    pub fn named(self, name: &str) -> Fault {
        let n = name.to_owned();
        match self {
            Fault::BadName(_) => Fault::BadName(n),
            Fault::AlreadyStarted(_) => Fault::AlreadyStarted(n),
            Fault::NotRunning(_) => Fault::NotRunning(n),
            Fault::SpawnError(_) => Fault::SpawnError(n),
            Fault::AbnormalTermination(_) => Fault::AbnormalTermination(n),
            other => other,
        }
    }

    /// The fault for a code and its detail text (the part after `NAME: `).
    pub fn from_code(code: i32, detail: String) -> Option<Fault> {
        Some(match code {
            1 => Fault::UnknownMethod,
            2 => Fault::IncorrectParameters,
            3 => Fault::BadArguments(detail),
            4 => Fault::SignatureUnsupported,
            6 => Fault::ShutdownState,
            10 => Fault::BadName(detail),
            11 => Fault::BadSignal(detail),
            20 => Fault::NoFile(detail),
            21 => Fault::NotExecutable(detail),
            30 => Fault::Failed(detail),
            40 => Fault::AbnormalTermination(detail),
            50 => Fault::SpawnError(detail),
            60 => Fault::AlreadyStarted(detail),
            70 => Fault::NotRunning(detail),
            80 => Fault::Success,
            90 => Fault::AlreadyAdded(detail),
            91 => Fault::StillRunning(detail),
            92 => Fault::CantReread(detail),
            _ => return None,
        })
    }

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
