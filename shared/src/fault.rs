//! Faults clients see, with supervisor's XML-RPC fault codes (`supervisor/xmlrpc.py`).

/// Shown as supervisor shows it: `NAME`, or `NAME: detail` when there is a detail (Python's
/// `RPCError(code, extra)` with `extra` not None).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    UnknownMethod,
    IncorrectParameters,
    BadArguments(String),
    SignatureUnsupported,
    ShutdownState,
    BadName(String),
    BadSignal(String),
    NoFile(String),
    NotExecutable(String),
    Failed(String),
    AbnormalTermination(String),
    SpawnError(String),
    AlreadyStarted(String),
    NotRunning(String),
    Success,
    AlreadyAdded(String),
    StillRunning(String),
    CantReread(String),
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.detail() {
            Some(d) if !d.is_empty() => write!(f, "{}: {d}", self.name()),
            _ => f.write_str(self.name()),
        }
    }
}

impl std::error::Error for Fault {}

impl Fault {
    /// The text after `NAME: ` (none for the faults that never carry one).
    pub fn detail(&self) -> Option<&str> {
        match self {
            Fault::BadArguments(d)
            | Fault::BadName(d)
            | Fault::BadSignal(d)
            | Fault::NoFile(d)
            | Fault::NotExecutable(d)
            | Fault::Failed(d)
            | Fault::AbnormalTermination(d)
            | Fault::SpawnError(d)
            | Fault::AlreadyStarted(d)
            | Fault::NotRunning(d)
            | Fault::AlreadyAdded(d)
            | Fault::StillRunning(d)
            | Fault::CantReread(d) => Some(d),
            Fault::UnknownMethod
            | Fault::IncorrectParameters
            | Fault::SignatureUnsupported
            | Fault::ShutdownState
            | Fault::Success => None,
        }
    }

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
