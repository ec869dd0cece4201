//! The gRPC service: a thin adapter from `supervisor.v1` to the [`Service`]. Proto types stop
//! here (and in `convert`, where every message is built).

mod convert;

use futures_util::StreamExt;
use proto::v1;
use proto::v1::supervisor_server::{Supervisor as SupervisorApi, SupervisorServer};
use shared::events::EventType;
use shared::names::Selection;
use tokio::sync::broadcast::error::RecvError;
use tonic::{Request, Response, Status};

use crate::service::{LogSource, Service};

use convert::status as fault;

/// The gRPC face of the service.
#[derive(Clone)]
pub struct GrpcService(pub Service);

/// The gRPC services on the router: ours, server reflection and health.
pub(super) async fn routes(svc: &Service) -> Result<axum::Router, String> {
    // Both reflection versions: grpcurl asks for v1, older tools (grpcio's) for v1alpha.
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| format!("reflection: {e}"))?;
    let reflection_alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .map_err(|e| format!("reflection: {e}"))?;
    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<SupervisorServer<GrpcService>>()
        .await;
    Ok(
        tonic::service::Routes::new(SupervisorServer::new(GrpcService(svc.clone())))
            .add_service(reflection)
            .add_service(reflection_alpha)
            .add_service(health)
            .into_axum_router(),
    )
}

type R<T> = Result<Response<T>, Status>;

fn ok<T>(v: T) -> R<T> {
    Ok(Response::new(v))
}

fn group(name: String) -> Selection {
    Selection::Group(name)
}

#[tonic::async_trait]
impl SupervisorApi for GrpcService {
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
            identification: self.0.identification(),
        })
    }

    async fn get_state(&self, _: Request<v1::GetStateRequest>) -> R<v1::GetStateResponse> {
        let s = self.0.state();
        ok(v1::GetStateResponse {
            statecode: s.code(),
            statename: s.name().to_owned(),
        })
    }

    async fn get_pid(&self, _: Request<v1::GetPidRequest>) -> R<v1::GetPidResponse> {
        ok(v1::GetPidResponse {
            pid: std::process::id() as i32,
        })
    }

    async fn shutdown(&self, _: Request<v1::ShutdownRequest>) -> R<v1::ShutdownResponse> {
        self.0.shutdown().await.map_err(fault)?;
        ok(v1::ShutdownResponse {})
    }

    async fn restart(&self, _: Request<v1::RestartRequest>) -> R<v1::RestartResponse> {
        self.0.reload().await.map_err(fault)?;
        ok(v1::RestartResponse {})
    }

    async fn read_main_log(&self, r: Request<v1::ReadLogRequest>) -> R<v1::ReadLogResponse> {
        let r = r.into_inner();
        let data = self
            .0
            .read_log(&LogSource::Main, r.offset, r.length)
            .await
            .map_err(fault)?;
        ok(v1::ReadLogResponse { data })
    }

    async fn clear_main_log(
        &self,
        _: Request<v1::ClearMainLogRequest>,
    ) -> R<v1::ClearMainLogResponse> {
        self.0.clear_main_log().await.map_err(fault)?;
        ok(v1::ClearMainLogResponse {})
    }

    async fn get_process_info(&self, r: Request<v1::GetProcessInfoRequest>) -> R<v1::ProcessInfo> {
        let p = self.0.process(&r.into_inner().name).await.map_err(fault)?;
        ok(convert::process_info(p))
    }

    async fn get_all_process_info(
        &self,
        _: Request<v1::GetAllProcessInfoRequest>,
    ) -> R<v1::GetAllProcessInfoResponse> {
        let all = self.0.processes().await.map_err(fault)?;
        ok(v1::GetAllProcessInfoResponse {
            processes: all.into_iter().map(convert::process_info).collect(),
        })
    }

    async fn get_all_config_info(
        &self,
        _: Request<v1::GetAllConfigInfoRequest>,
    ) -> R<v1::GetAllConfigInfoResponse> {
        let cfgs = self.0.configs().await.map_err(fault)?;
        ok(v1::GetAllConfigInfoResponse {
            configs: cfgs.iter().map(convert::config_info).collect(),
        })
    }

    async fn start_process(
        &self,
        r: Request<v1::StartProcessRequest>,
    ) -> R<v1::StartProcessResponse> {
        let r = r.into_inner();
        let p = self.0.start(&r.name, r.wait).await.map_err(fault)?;
        ok(v1::StartProcessResponse {
            info: Some(convert::process_info(p)),
        })
    }

    async fn start_process_group(
        &self,
        r: Request<v1::StartProcessGroupRequest>,
    ) -> R<v1::ProcessResults> {
        let r = r.into_inner();
        let rs = self.0.start_many(&group(r.name), r.wait).await;
        ok(convert::results(rs.map_err(fault)?))
    }

    async fn start_all_processes(
        &self,
        r: Request<v1::StartAllProcessesRequest>,
    ) -> R<v1::ProcessResults> {
        let rs = self
            .0
            .start_many(&Selection::All, r.into_inner().wait)
            .await;
        ok(convert::results(rs.map_err(fault)?))
    }

    async fn stop_process(&self, r: Request<v1::StopProcessRequest>) -> R<v1::StopProcessResponse> {
        let r = r.into_inner();
        let p = self.0.stop(&r.name, r.wait).await.map_err(fault)?;
        ok(v1::StopProcessResponse {
            info: Some(convert::process_info(p)),
        })
    }

    async fn stop_process_group(
        &self,
        r: Request<v1::StopProcessGroupRequest>,
    ) -> R<v1::ProcessResults> {
        let r = r.into_inner();
        let rs = self.0.stop_many(&group(r.name), r.wait).await;
        ok(convert::results(rs.map_err(fault)?))
    }

    async fn stop_all_processes(
        &self,
        r: Request<v1::StopAllProcessesRequest>,
    ) -> R<v1::ProcessResults> {
        let rs = self.0.stop_many(&Selection::All, r.into_inner().wait).await;
        ok(convert::results(rs.map_err(fault)?))
    }

    async fn signal_process(
        &self,
        r: Request<v1::SignalProcessRequest>,
    ) -> R<v1::SignalProcessResponse> {
        let r = r.into_inner();
        self.0.signal(&r.name, &r.signal).await.map_err(fault)?;
        ok(v1::SignalProcessResponse {})
    }

    async fn signal_process_group(
        &self,
        r: Request<v1::SignalProcessGroupRequest>,
    ) -> R<v1::ProcessResults> {
        let r = r.into_inner();
        let rs = self.0.signal_many(&group(r.name), &r.signal).await;
        ok(convert::results(rs.map_err(fault)?))
    }

    async fn signal_all_processes(
        &self,
        r: Request<v1::SignalAllProcessesRequest>,
    ) -> R<v1::ProcessResults> {
        let rs = self
            .0
            .signal_many(&Selection::All, &r.into_inner().signal)
            .await;
        ok(convert::results(rs.map_err(fault)?))
    }

    async fn send_process_stdin(
        &self,
        r: Request<v1::SendProcessStdinRequest>,
    ) -> R<v1::SendProcessStdinResponse> {
        let r = r.into_inner();
        self.0.send_stdin(&r.name, r.data).await.map_err(fault)?;
        ok(v1::SendProcessStdinResponse {})
    }

    async fn read_process_log(
        &self,
        r: Request<v1::ReadProcessLogRequest>,
    ) -> R<v1::ReadLogResponse> {
        let r = r.into_inner();
        let source = LogSource::Process {
            name: r.name,
            channel: convert::channel(r.channel),
        };
        let data = self
            .0
            .read_log(&source, r.offset, r.length)
            .await
            .map_err(fault)?;
        ok(v1::ReadLogResponse { data })
    }

    async fn tail_process_log(
        &self,
        r: Request<v1::TailProcessLogRequest>,
    ) -> R<v1::TailProcessLogResponse> {
        let r = r.into_inner();
        let t = self
            .0
            .tail_log(&r.name, convert::channel(r.channel), r.offset, r.length)
            .await
            .map_err(fault)?;
        ok(v1::TailProcessLogResponse {
            data: t.data,
            offset: t.offset,
            overflow: t.overflow,
        })
    }

    async fn clear_process_logs(
        &self,
        r: Request<v1::ClearProcessLogsRequest>,
    ) -> R<v1::ClearProcessLogsResponse> {
        let name = r.into_inner().name;
        self.0.clear_logs(&name).await.map_err(fault)?;
        ok(v1::ClearProcessLogsResponse {})
    }

    async fn clear_all_process_logs(
        &self,
        _: Request<v1::ClearAllProcessLogsRequest>,
    ) -> R<v1::ProcessResults> {
        let rs = self.0.clear_all_logs().await;
        ok(convert::results(rs.map_err(fault)?))
    }

    async fn reload_config(
        &self,
        _: Request<v1::ReloadConfigRequest>,
    ) -> R<v1::ReloadConfigResponse> {
        let c = self.0.reread().await.map_err(fault)?;
        ok(v1::ReloadConfigResponse {
            added: c.added,
            changed: c.changed,
            removed: c.removed,
        })
    }

    async fn add_process_group(
        &self,
        r: Request<v1::AddProcessGroupRequest>,
    ) -> R<v1::AddProcessGroupResponse> {
        let name = r.into_inner().name;
        self.0.add_group(&name).await.map_err(fault)?;
        ok(v1::AddProcessGroupResponse {})
    }

    async fn remove_process_group(
        &self,
        r: Request<v1::RemoveProcessGroupRequest>,
    ) -> R<v1::RemoveProcessGroupResponse> {
        let name = r.into_inner().name;
        self.0.remove_group(&name).await.map_err(fault)?;
        ok(v1::RemoveProcessGroupResponse {})
    }

    type TailLogStream = std::pin::Pin<
        Box<dyn futures_util::Stream<Item = Result<v1::LogChunk, Status>> + Send + 'static>,
    >;

    async fn tail_log(&self, r: Request<v1::TailLogRequest>) -> R<Self::TailLogStream> {
        let r = r.into_inner();
        let source = if r.name.is_empty() {
            LogSource::Main
        } else {
            LogSource::Process {
                name: r.name,
                channel: convert::channel(r.channel),
            }
        };
        let initial = u64::try_from(r.initial_bytes).unwrap_or(0);
        let follow = self.0.follow(&source, initial).await.map_err(fault)?;
        ok(Box::pin(follow.chunks.map(|c| Ok(convert::log_chunk(c)))))
    }

    type SubscribeStream = std::pin::Pin<
        Box<dyn futures_util::Stream<Item = Result<v1::Event, Status>> + Send + 'static>,
    >;

    async fn subscribe(&self, r: Request<v1::SubscribeRequest>) -> R<Self::SubscribeStream> {
        let mut filter = Vec::new();
        for name in r.into_inner().events {
            match EventType::parse(&name.trim().to_uppercase()) {
                Some(t) => filter.push(t),
                None => {
                    return Err(Status::invalid_argument(format!(
                        "unknown event type {name:?}"
                    )));
                }
            }
        }
        let rx = self.0.subscribe();
        ok(Box::pin(futures_util::stream::unfold(
            Some((rx, filter)),
            |state| async move {
                let (mut rx, filter) = state?;
                loop {
                    match rx.recv().await {
                        Ok(ev) => {
                            let t = ev.event_type();
                            if filter.is_empty() || filter.iter().any(|f| t.is_a(*f)) {
                                return Some((Ok(convert::event(ev)), Some((rx, filter))));
                            }
                        }
                        // Never a silently incomplete history: the client learns what it
                        // missed, and the stream ends.
                        Err(RecvError::Lagged(n)) => {
                            return Some((
                                Err(Status::data_loss(format!(
                                    "missed {n} events (the client was too slow): read the current state with GetAllProcessInfo and subscribe again"
                                ))),
                                None,
                            ));
                        }
                        Err(RecvError::Closed) => return None,
                    }
                }
            },
        )))
    }

    async fn send_remote_comm_event(
        &self,
        r: Request<v1::SendRemoteCommEventRequest>,
    ) -> R<v1::SendRemoteCommEventResponse> {
        let r = r.into_inner();
        self.0.publish_remote(&r.r#type, &r.data).map_err(fault)?;
        ok(v1::SendRemoteCommEventResponse {})
    }

    async fn get_event_pools(
        &self,
        _: Request<v1::GetEventPoolsRequest>,
    ) -> R<v1::GetEventPoolsResponse> {
        let pools = self.0.pools().await;
        ok(v1::GetEventPoolsResponse {
            pools: pools.into_iter().map(convert::pool).collect(),
        })
    }
}
