//! Between `shared` types and the generated ones: states, and faults carried in a status.

use shared::{Fault, ProcessState};
use tonic::{Code, Status};

use crate::v1;
use crate::{FAULT_CODE_KEY, FAULT_NAME_KEY};

impl From<ProcessState> for v1::ProcessState {
    fn from(s: ProcessState) -> Self {
        v1::ProcessState::try_from(s.code()).unwrap_or(v1::ProcessState::Unknown)
    }
}

impl From<v1::ProcessState> for ProcessState {
    fn from(s: v1::ProcessState) -> Self {
        ProcessState::from_code(s as i32).unwrap_or(ProcessState::Unknown)
    }
}

/// The gRPC code that best matches a fault, for generic clients.
fn code(f: &Fault) -> Code {
    match f {
        Fault::UnknownMethod | Fault::SignatureUnsupported => Code::Unimplemented,
        Fault::IncorrectParameters | Fault::BadArguments(_) | Fault::BadSignal(_) => {
            Code::InvalidArgument
        }
        Fault::ShutdownState => Code::Unavailable,
        Fault::BadName(_) | Fault::NoFile(_) => Code::NotFound,
        Fault::NotExecutable(_) => Code::PermissionDenied,
        Fault::AlreadyStarted(_) | Fault::AlreadyAdded(_) => Code::AlreadyExists,
        Fault::NotRunning(_) | Fault::StillRunning(_) | Fault::CantReread(_) => {
            Code::FailedPrecondition
        }
        Fault::Failed(_) | Fault::AbnormalTermination(_) | Fault::SpawnError(_) => Code::Aborted,
        Fault::Success => Code::Ok,
    }
}

/// A fault as a status: supervisor's fault string as the message, code and name in metadata.
pub fn status_from_fault(f: &Fault) -> Status {
    let mut st = Status::new(code(f), f.to_string());
    let md = st.metadata_mut();
    if let Ok(v) = f.code().to_string().parse() {
        md.insert(FAULT_CODE_KEY, v);
    }
    if let Ok(v) = f.name().parse() {
        md.insert(FAULT_NAME_KEY, v);
    }
    st
}

/// Back from a status to a fault, when the status carries one.
pub fn fault_from_status(st: &Status) -> Option<Fault> {
    let code: i32 = st
        .metadata()
        .get(FAULT_CODE_KEY)?
        .to_str()
        .ok()?
        .parse()
        .ok()?;
    let detail = st
        .message()
        .split_once(": ")
        .map_or(String::new(), |(_, d)| d.to_owned());
    Fault::from_code(code, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_round_trip_through_a_status() {
        for f in [
            Fault::BadName("x".into()),
            Fault::AlreadyStarted("g:p".into()),
            Fault::ShutdownState,
            Fault::SpawnError("web".into()),
            Fault::CantReread("bad: line 3".into()),
        ] {
            let st = status_from_fault(&f);
            assert_eq!(st.message(), f.to_string());
            assert_eq!(fault_from_status(&st), Some(f));
        }
        assert_eq!(fault_from_status(&Status::internal("boom")), None);
    }
}
