//! The gRPC service: a thin adapter from `supervisor.v1` to the supervisor [`Handle`].

use std::path::PathBuf;
use std::sync::Arc;

use proto::v1;
use proto::v1::supervisor_server::Supervisor as SupervisorApi;
use shared::{Fault, ProcessState, SupervisorState};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::daemon::Reloader;
use crate::events::Event;
use crate::logging::mainlog::MainLog;
use crate::supervisor::{FollowRx, Handle, ProcessInfo};

use super::describe;
use super::logfile;

/// What the service needs: the actor, the main log, and how to reload.
#[derive(Clone)]
pub struct Api {
    pub handle: Handle,
    pub mainlog: MainLog,
    pub reloader: Arc<Reloader>,
}

fn fault(f: Fault) -> Status {
    proto::status_from_fault(&f)
}

type R<T> = Result<Response<T>, Status>;

fn ok<T>(v: T) -> R<T> {
    Ok(Response::new(v))
}

pub(crate) fn to_proto(p: ProcessInfo) -> v1::ProcessInfo {
    to_proto_at(p, crate::supervisor::wall_now())
}

/// `now`: the same clock reading for every process of one answer.
fn to_proto_at(p: ProcessInfo, now: i64) -> v1::ProcessInfo {
    let description = describe::description(&p, now);
    v1::ProcessInfo {
        name: p.name,
        group: p.group,
        start: p.start,
        stop: p.stop,
        now,
        state: v1::ProcessState::from(p.state) as i32,
        statename: p.state.name().to_owned(),
        spawnerr: p.spawnerr,
        exitstatus: p.exitstatus,
        stdout_logfile: p.stdout_logfile,
        stderr_logfile: p.stderr_logfile,
        pid: p.pid,
        description,
    }
}

fn result(p: &ProcessInfo, r: Result<(), Fault>) -> v1::ProcessResult {
    let (status, description) = match r {
        Ok(()) => (Fault::Success.code(), "OK".to_owned()),
        Err(f) => (f.code(), f.to_string()),
    };
    v1::ProcessResult {
        name: p.name.clone(),
        group: p.group.clone(),
        status,
        description,
    }
}

fn full_name(p: &ProcessInfo) -> String {
    format!("{}:{}", p.group, p.name)
}

#[derive(Clone, Copy)]
enum Op {
    Start,
    Stop,
}

impl Api {
    /// The processes a group or "all" operation applies to, in start order (stop: reversed).
    async fn members(&self, group: Option<&str>, op: Op) -> Result<Vec<ProcessInfo>, Status> {
        let mut all = self.handle.status().await.map_err(fault)?;
        if let Some(g) = group {
            all.retain(|p| p.group == g);
            if all.is_empty() {
                return Err(fault(Fault::BadName(g.to_owned())));
            }
        }
        if matches!(op, Op::Stop) {
            all.reverse();
        }
        Ok(all)
    }

    /// Starts or stops many processes at once; results in the order they complete.
    async fn many(&self, group: Option<&str>, op: Op, wait: bool) -> R<v1::ProcessResults> {
        let members = self.members(group, op).await?;
        let mut set = tokio::task::JoinSet::new();
        for p in members {
            let applies = match op {
                Op::Start => !p.state.is_running(),
                Op::Stop => p.state.is_running() || p.state == ProcessState::Stopping,
            };
            if !applies {
                continue;
            }
            let h = self.handle.clone();
            set.spawn(async move {
                let r = match op {
                    Op::Start => h.start(&full_name(&p), wait).await.map(drop),
                    Op::Stop => h.stop(&full_name(&p), wait).await.map(drop),
                };
                result(&p, r)
            });
        }
        let mut results = Vec::new();
        while let Some(r) = set.join_next().await {
            if let Ok(r) = r {
                results.push(r);
            }
        }
        ok(v1::ProcessResults { results })
    }

    async fn each<F, Fut>(&self, group: Option<&str>, f: F) -> R<v1::ProcessResults>
    where
        F: Fn(Handle, String) -> Fut,
        Fut: std::future::Future<Output = Result<(), Fault>>,
    {
        let members = self.members(group, Op::Start).await?;
        let mut results = Vec::new();
        for p in members {
            let r = f(self.handle.clone(), full_name(&p)).await;
            results.push(result(&p, r));
        }
        ok(v1::ProcessResults { results })
    }

    async fn log_path(&self, name: &str, channel: i32) -> Result<PathBuf, Status> {
        let info = self.handle.info(name).await.map_err(fault)?;
        let path = if channel == v1::LogChannel::Stderr as i32 {
            info.stderr_logfile
        } else {
            info.stdout_logfile
        };
        if path.is_empty() {
            return Err(fault(Fault::NoFile("None".into())));
        }
        let p = PathBuf::from(&path);
        if !p.exists() {
            return Err(fault(Fault::NoFile(path)));
        }
        Ok(p)
    }

    fn main_log_path(&self) -> Result<PathBuf, Status> {
        self.mainlog
            .path()
            .filter(|p| p.exists())
            .ok_or_else(|| fault(Fault::NoFile("main log".into())))
    }
}

/// Streams the last `initial` bytes of `path` (when there is a file), then every new chunk.
fn follow_stream(
    path: Option<PathBuf>,
    initial: i64,
    mut rx: FollowRx,
) -> ReceiverStream<Result<v1::LogChunk, Status>> {
    let (tx, out) = mpsc::channel(64);
    tokio::spawn(async move {
        if let Some(p) = path.filter(|_| initial > 0) {
            let data = logfile::last_bytes(&p, initial as u64);
            if !data.is_empty()
                && tx
                    .send(Ok(v1::LogChunk {
                        data,
                        truncated: false,
                    }))
                    .await
                    .is_err()
            {
                return;
            }
        }
        loop {
            let chunk = match rx.recv().await {
                Ok(d) => d.to_vec(),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    format!("\n==> {n} chunks skipped (the client was too slow) <==\n").into_bytes()
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            };
            let msg = v1::LogChunk {
                data: chunk,
                truncated: false,
            };
            if tx.send(Ok(msg)).await.is_err() {
                break;
            }
        }
    });
    ReceiverStream::new(out)
}

fn state_response(s: SupervisorState) -> v1::GetStateResponse {
    v1::GetStateResponse {
        statecode: s.code(),
        statename: s.name().to_owned(),
    }
}

#[tonic::async_trait]
impl SupervisorApi for Api {
    async fn get_version(&self, _: Request<v1::GetVersionRequest>) -> R<v1::GetVersionResponse> {
        ok(v1::GetVersionResponse {
            api_version: "3.0".into(),
            supervisor_version: env!("CARGO_PKG_VERSION").into(),
        })
    }

    async fn get_identification(
        &self,
        _: Request<v1::GetIdentificationRequest>,
    ) -> R<v1::GetIdentificationResponse> {
        ok(v1::GetIdentificationResponse {
            identification: self.reloader.identifier(),
        })
    }

    async fn get_state(&self, _: Request<v1::GetStateRequest>) -> R<v1::GetStateResponse> {
        let s = self.handle.state().await.map_err(fault)?;
        ok(state_response(s))
    }

    async fn get_pid(&self, _: Request<v1::GetPidRequest>) -> R<v1::GetPidResponse> {
        ok(v1::GetPidResponse {
            pid: std::process::id() as i32,
        })
    }

    async fn shutdown(&self, _: Request<v1::ShutdownRequest>) -> R<v1::ShutdownResponse> {
        self.handle.state().await.map_err(fault)?;
        tracing::warn!("received shutdown request");
        let h = self.handle.clone();
        tokio::spawn(async move { h.shutdown().await });
        ok(v1::ShutdownResponse {})
    }

    async fn restart(&self, _: Request<v1::RestartRequest>) -> R<v1::RestartResponse> {
        if self.handle.state().await.map_err(fault)? != SupervisorState::Running {
            return Err(fault(Fault::ShutdownState));
        }
        tracing::warn!("received restart request");
        self.reloader
            .reload()
            .map_err(|e| fault(Fault::Failed(e)))?;
        ok(v1::RestartResponse {})
    }

    async fn read_main_log(&self, r: Request<v1::ReadLogRequest>) -> R<v1::ReadLogResponse> {
        let r = r.into_inner();
        let p = self.main_log_path()?;
        let data = logfile::read_file(&p, r.offset, r.length).map_err(fault)?;
        ok(v1::ReadLogResponse { data })
    }

    async fn clear_main_log(
        &self,
        _: Request<v1::ClearMainLogRequest>,
    ) -> R<v1::ClearMainLogResponse> {
        self.mainlog.clear().map_err(|e| fault(Fault::Failed(e)))?;
        ok(v1::ClearMainLogResponse {})
    }

    async fn get_process_info(&self, r: Request<v1::GetProcessInfoRequest>) -> R<v1::ProcessInfo> {
        let info = self
            .handle
            .info(&r.into_inner().name)
            .await
            .map_err(fault)?;
        ok(to_proto(info))
    }

    async fn get_all_process_info(
        &self,
        _: Request<v1::GetAllProcessInfoRequest>,
    ) -> R<v1::GetAllProcessInfoResponse> {
        let mut all = self.handle.status().await.map_err(fault)?;
        all.sort_by(|a, b| (&a.group, &a.name).cmp(&(&b.group, &b.name)));
        let now = crate::supervisor::wall_now();
        ok(v1::GetAllProcessInfoResponse {
            processes: all.into_iter().map(|p| to_proto_at(p, now)).collect(),
        })
    }

    async fn get_all_config_info(
        &self,
        _: Request<v1::GetAllConfigInfoRequest>,
    ) -> R<v1::GetAllConfigInfoResponse> {
        let mut cfgs = self.handle.configs().await.map_err(fault)?;
        cfgs.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        let configs = cfgs
            .into_iter()
            .map(|(c, gp, inuse)| describe::config_info(&c, gp, inuse))
            .collect();
        ok(v1::GetAllConfigInfoResponse { configs })
    }

    async fn start_process(
        &self,
        r: Request<v1::StartProcessRequest>,
    ) -> R<v1::StartProcessResponse> {
        let r = r.into_inner();
        let info = self.handle.start(&r.name, r.wait).await.map_err(fault)?;
        ok(v1::StartProcessResponse {
            info: Some(to_proto(info)),
        })
    }

    async fn start_process_group(
        &self,
        r: Request<v1::StartProcessGroupRequest>,
    ) -> R<v1::ProcessResults> {
        let r = r.into_inner();
        self.many(Some(&r.name), Op::Start, r.wait).await
    }

    async fn start_all_processes(
        &self,
        r: Request<v1::StartAllProcessesRequest>,
    ) -> R<v1::ProcessResults> {
        self.many(None, Op::Start, r.into_inner().wait).await
    }

    async fn stop_process(&self, r: Request<v1::StopProcessRequest>) -> R<v1::StopProcessResponse> {
        let r = r.into_inner();
        let info = self.handle.stop(&r.name, r.wait).await.map_err(fault)?;
        ok(v1::StopProcessResponse {
            info: Some(to_proto(info)),
        })
    }

    async fn stop_process_group(
        &self,
        r: Request<v1::StopProcessGroupRequest>,
    ) -> R<v1::ProcessResults> {
        let r = r.into_inner();
        self.many(Some(&r.name), Op::Stop, r.wait).await
    }

    async fn stop_all_processes(
        &self,
        r: Request<v1::StopAllProcessesRequest>,
    ) -> R<v1::ProcessResults> {
        self.many(None, Op::Stop, r.into_inner().wait).await
    }

    async fn signal_process(
        &self,
        r: Request<v1::SignalProcessRequest>,
    ) -> R<v1::SignalProcessResponse> {
        let r = r.into_inner();
        self.handle
            .signal(&r.name, &r.signal)
            .await
            .map_err(fault)?;
        ok(v1::SignalProcessResponse {})
    }

    async fn signal_process_group(
        &self,
        r: Request<v1::SignalProcessGroupRequest>,
    ) -> R<v1::ProcessResults> {
        let r = r.into_inner();
        let sig = r.signal;
        self.each(Some(&r.name), |h, n| {
            let sig = sig.clone();
            async move { h.signal(&n, &sig).await }
        })
        .await
    }

    async fn signal_all_processes(
        &self,
        r: Request<v1::SignalAllProcessesRequest>,
    ) -> R<v1::ProcessResults> {
        let sig = r.into_inner().signal;
        self.each(None, |h, n| {
            let sig = sig.clone();
            async move { h.signal(&n, &sig).await }
        })
        .await
    }

    async fn send_process_stdin(
        &self,
        r: Request<v1::SendProcessStdinRequest>,
    ) -> R<v1::SendProcessStdinResponse> {
        let r = r.into_inner();
        self.handle
            .send_stdin(&r.name, r.data)
            .await
            .map_err(fault)?;
        ok(v1::SendProcessStdinResponse {})
    }

    async fn read_process_log(
        &self,
        r: Request<v1::ReadProcessLogRequest>,
    ) -> R<v1::ReadLogResponse> {
        let r = r.into_inner();
        let p = self.log_path(&r.name, r.channel).await?;
        let data = logfile::read_file(&p, r.offset, r.length).map_err(fault)?;
        ok(v1::ReadLogResponse { data })
    }

    async fn tail_process_log(
        &self,
        r: Request<v1::TailProcessLogRequest>,
    ) -> R<v1::TailProcessLogResponse> {
        let r = r.into_inner();
        let info = self.handle.info(&r.name).await.map_err(fault)?;
        let path = if r.channel == v1::LogChannel::Stderr as i32 {
            info.stderr_logfile
        } else {
            info.stdout_logfile
        };
        let (data, offset, overflow) =
            logfile::tail_file(PathBuf::from(path).as_path(), r.offset, r.length);
        ok(v1::TailProcessLogResponse {
            data,
            offset,
            overflow,
        })
    }

    async fn clear_process_logs(
        &self,
        r: Request<v1::ClearProcessLogsRequest>,
    ) -> R<v1::ClearProcessLogsResponse> {
        self.handle
            .clear_logs(&r.into_inner().name)
            .await
            .map_err(fault)?;
        ok(v1::ClearProcessLogsResponse {})
    }

    async fn clear_all_process_logs(
        &self,
        _: Request<v1::ClearAllProcessLogsRequest>,
    ) -> R<v1::ProcessResults> {
        self.each(None, |h, n| async move { h.clear_logs(&n).await })
            .await
    }

    async fn reload_config(
        &self,
        _: Request<v1::ReloadConfigRequest>,
    ) -> R<v1::ReloadConfigResponse> {
        if self.handle.state().await.map_err(fault)? != SupervisorState::Running {
            return Err(fault(Fault::ShutdownState));
        }
        let config = self
            .reloader
            .read()
            .map_err(|e| fault(Fault::CantReread(e)))?;
        let (added, changed, removed) =
            self.handle.reread(Arc::new(config)).await.map_err(fault)?;
        ok(v1::ReloadConfigResponse {
            added,
            changed,
            removed,
        })
    }

    async fn add_process_group(
        &self,
        r: Request<v1::AddProcessGroupRequest>,
    ) -> R<v1::AddProcessGroupResponse> {
        self.handle
            .add_group(&r.into_inner().name)
            .await
            .map_err(fault)?;
        ok(v1::AddProcessGroupResponse {})
    }

    async fn remove_process_group(
        &self,
        r: Request<v1::RemoveProcessGroupRequest>,
    ) -> R<v1::RemoveProcessGroupResponse> {
        self.handle
            .remove_group(&r.into_inner().name)
            .await
            .map_err(fault)?;
        ok(v1::RemoveProcessGroupResponse {})
    }

    type TailLogStream = ReceiverStream<Result<v1::LogChunk, Status>>;

    async fn tail_log(&self, r: Request<v1::TailLogRequest>) -> R<Self::TailLogStream> {
        let r = r.into_inner();
        let (path, rx) = if r.name.is_empty() {
            (self.mainlog.path(), self.mainlog.follow())
        } else {
            self.handle
                .follow(&r.name, r.channel == v1::LogChannel::Stderr as i32)
                .await
                .map_err(fault)?
        };
        ok(follow_stream(path, r.initial_bytes, rx))
    }

    type SubscribeStream = ReceiverStream<Result<v1::Event, Status>>;

    async fn subscribe(&self, _: Request<v1::SubscribeRequest>) -> R<Self::SubscribeStream> {
        let mut rx = self.handle.subscribe();
        let (tx, out) = mpsc::channel(256);
        tokio::spawn(async move {
            loop {
                let ev = match rx.recv().await {
                    Ok(ev) => ev,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        // Never a silently incomplete history: the client learns what it missed.
                        let _ = tx
                            .send(Err(Status::data_loss(format!(
                                "missed {n} events (the client was too slow): read the current state with GetAllProcessInfo and subscribe again"
                            ))))
                            .await;
                        break;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                };
                let kind = match ev {
                    Event::ProcessStateChanged {
                        name,
                        group,
                        from,
                        to,
                        pid,
                        tries,
                        expected,
                        at,
                    } => v1::event::Kind::ProcessStateChanged(v1::ProcessStateChanged {
                        name,
                        group,
                        from_state: v1::ProcessState::from(from) as i32,
                        to_state: v1::ProcessState::from(to) as i32,
                        pid,
                        tries,
                        expected: expected.unwrap_or(false),
                        at: at
                            .duration_since(std::time::UNIX_EPOCH)
                            .map_or(0.0, |d| d.as_secs_f64()),
                    }),
                    Event::SupervisorStateChanged { to } => {
                        v1::event::Kind::SupervisorStateChanged(v1::SupervisorStateChanged {
                            statecode: to.code(),
                            statename: to.name().to_owned(),
                        })
                    }
                };
                if tx.send(Ok(v1::Event { kind: Some(kind) })).await.is_err() {
                    break;
                }
            }
        });
        ok(ReceiverStream::new(out))
    }
}
